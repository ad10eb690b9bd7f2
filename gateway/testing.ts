/**
 * Test helpers shared by the gateway's tests and bench: deterministic device keys, pre-signed chains and
 * registration bodies. Sign once, reuse everywhere: the JS backend signs only ~45 messages per second.
 */
import {
  addressToBigInt,
  encodePublicKey,
  encodeReading,
  encodeSignature,
  extendChain,
  initialChainState,
  loadDeviceKey,
  registrationMessage,
  type ChainState,
  type DeviceKey,
  type EddsaBackend,
  type SignedReading,
  type SignMode,
  type WireReading,
} from "../device-sdk/index.ts";

export const DEV_OWNER = "0x1111111111111111111111111111111111111111";
export const DEV_REGISTRY = "0x0000000000000000000000000000000000000000";
export const DEV_CHAIN_ID = 31337n;

/** Key n (deterministic bytes, so failures reproduce). */
export function testKey(backend: EddsaBackend, n: number): DeviceKey {
  const bytes = new Uint8Array(32);
  new DataView(bytes.buffer).setUint32(0, n + 1);
  bytes[31] = 0x5a;
  return loadDeviceKey(backend, bytes);
}

export function registrationBody(
  backend: EddsaBackend,
  key: DeviceKey,
  owner = DEV_OWNER,
  chainId = DEV_CHAIN_ID,
  registry = DEV_REGISTRY,
) {
  const sig = backend.sign(
    key.privateKey,
    registrationMessage(addressToBigInt(owner), chainId, addressToBigInt(registry)),
  );
  return {
    publicKey: encodePublicKey(key.publicKey),
    owner,
    chainId: chainId.toString(),
    registry,
    signature: encodeSignature(sig),
  };
}

/** `count` readings continuing `state`, ts from ts0 one second apart; signMode "last" signs only the final one. */
export function makeChain(
  backend: EddsaBackend,
  key: DeviceKey,
  count: number,
  opts: { state?: ChainState; ts0?: number; signMode?: SignMode; values?: (i: number) => (bigint | number)[] } = {},
): { readings: SignedReading[]; wire: WireReading[]; state: ChainState } {
  // Continuing a chain: by default one second after its last reading (ts never decreases along a chain).
  const ts0 = opts.ts0 ?? (opts.state?.lastTs !== undefined ? Number(opts.state.lastTs) + 1000 : 1_700_000_000_000);
  const inputs = Array.from({ length: count }, (_, i) => ({
    ts: ts0 + i * 1000,
    values: opts.values?.(i) ?? [i, -i, 1000 + i],
  }));
  const { readings, state } = extendChain({
    backend,
    key,
    state: opts.state ?? initialChainState(key.deviceId),
    inputs,
    signMode: opts.signMode ?? "every",
  });
  return { readings, wire: readings.map(encodeReading), state };
}

// MQTT test support: a bare publisher that bypasses the SDK's checks, and the brokers the MQTT tests run against.
export { publishRaw, subscribeOnce, type Answer } from "./mqtt/raw-client.ts";
export { mosquittoBin, mosquittoSkipReason, startAedes, startMosquitto, type TestBroker } from "./mqtt/test-brokers.ts";
