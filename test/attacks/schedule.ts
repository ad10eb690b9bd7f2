/**
 * Critical (issue 16): the claimer chose the epoch window. The vault's nullifier is keccak256(imageId, deviceId,
 * epoch) and a proof holds for any window around the same signed readings, so every shifted window was a fresh
 * nullifier and the same readings were paid again and again. Each attack below proves a window with the real
 * readings_sum_16 circuit (the proof verifies off-chain) and presents it to the real vault on anvil, which now pays
 * only the applet's schedule: epochs of epochLengthMs from genesisMs, ended by chain time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  loadDeviceKey,
  type DeviceKey,
  type EddsaBackend,
  type EpochWindow,
} from "../../device-sdk/index.ts";
import { closeProver, isBuilt, proveClaim, toCalldata, verifyReceipt } from "../../circuits/index.ts";
import { startDevnet, randomImageId, signedEpochChain, TEST_GENESIS_MS, type Devnet } from "../../contracts/fixture.ts";
import { reverted } from "../../contracts/expect-revert.ts";
import type { MachinefiClient } from "../../contracts/index.ts";

const L = 60_000n;
const G = TEST_GENESIS_MS;

describe("attack: the claimer chooses the epoch window (schedule)", { timeout: 240_000 }, () => {
  let net: Devnet;
  let admin: MachinefiClient, alice: MachinefiClient;
  let backend: EddsaBackend;
  let key: DeviceKey;
  let imageId: string;

  /** A real proof that the device's readings sum to 23 over `window` (the readings are laid out around `around`). */
  async function proveWindow(window: EpochWindow, around: EpochWindow = window) {
    const readings = signedEpochChain({ backend, key, epoch: around, inside: [5n, 7n, 11n] });
    const receipt = await proveClaim({
      readings,
      devicePublicKey: key.publicKey,
      epoch: window,
      imageId,
      reducer: "sum",
      claim: 23n,
      sizes: [16],
    });
    expect(await verifyReceipt(receipt, { applet: { imageId, reducer: "sum" } }), "the proof verifies off-chain").toBe(
      true,
    );
    return toCalldata(receipt);
  }

  beforeAll(async () => {
    expect(isBuilt("readings_sum_16"), "circuit readings_sum_16 is not built: run npm run build").toBe(true);
    net = await startDevnet({ clients: 2 });
    [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
    backend = await buildJsBackend();
    key = await loadDeviceKey(backend, new Uint8Array(32).fill(61));
    imageId = randomImageId();
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    // one-minute epochs from G: G + i·L are the only windows this applet pays
    await admin.registerApplet({
      imageId,
      verifier: { reducer: "sum" },
      rewardPerUnit: 2n,
      epochLengthMs: L,
      genesisMs: G,
    });
  }, 120_000);
  afterAll(async () => {
    await closeProver();
    await net?.stop();
  });

  it("schedule: {S, L} pays; the same readings proven for {S−1, L} revert PayoutVault__EpochMisaligned", async () => {
    const S = G + 2n * L;
    const onSchedule = await proveWindow({ startMs: S, lengthMs: L });
    const shifted = await proveWindow({ startMs: S - 1n, lengthMs: L }, { startMs: S, lengthMs: L });
    expect(shifted.epoch).not.toBe(onSchedule.epoch); // a fresh nullifier for the same readings
    expect((await alice.claim(onSchedule)).paid.reward).toBe(46n);
    const err = await reverted(alice.claim(shifted), "PayoutVault__EpochMisaligned");
    expect(err.args.slice(1)).toEqual([S - 1n, G, L]);
    expect(await alice.isClaimed(shifted)).toBe(false);
  });

  it("schedule: a window of another length over the same applet reverts PayoutVault__WrongEpochLength", async () => {
    const twice = await proveWindow({ startMs: G + 4n * L, lengthMs: 2n * L });
    await reverted(alice.claim(twice), "PayoutVault__WrongEpochLength");
  });

  it("schedule: an epoch that has not ended by chain time reverts PayoutVault__EpochNotEnded", async () => {
    const nowMs = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    const future = { startMs: nowMs - ((nowMs - G) % L) + 10n * L, lengthMs: L };
    const calldata = await proveWindow(future);
    const err = await reverted(alice.claim(calldata), "PayoutVault__EpochNotEnded");
    expect(err.args[1]).toBe(future.startMs + L);
  });

  it("schedule: an epoch before the applet's genesis reverts PayoutVault__EpochBeforeGenesis", async () => {
    const before = await proveWindow({ startMs: G - 3n * L, lengthMs: L });
    await reverted(alice.claim(before), "PayoutVault__EpochBeforeGenesis");
  });
});
