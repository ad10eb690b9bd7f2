/**
 * Makers, attestations and device keys on top of a MachinefiClient: governance admits makers (MakerRegistry), a
 * maker attests a device with an EIP-712 signature, an owner registers it with that attestation, and the token's
 * key is rotated or revoked. Writes go through the client's write queue (one nonce sequence per client).
 */
import type { Wallet } from "ethers";
import type { MachinefiClient, TxResult } from "./client.ts";
import { ContractsError } from "./errors.ts";
import { toContractsError } from "./revert.ts";
import type { Groth16Calldata } from "./proof.ts";
import { ATTESTATION_TYPES, attestationDomain, type DeviceAttestation } from "../device-sdk/index.ts";

// The attestation's one definition lives in device-sdk (makers, devices and owners share it).
export { ATTESTATION_TYPES, attestationDomain, type DeviceAttestation };

export interface MakerInfo {
  makerId: number;
  account: string;
  active: boolean;
  name: string;
}

export interface DeviceKey {
  keyId: bigint;
  /** The key signs for the token from this time (ms); 0 for the key the device was registered with. */
  validFromMs: bigint;
  /** The key stops being valid at this time (ms); 0 while it is valid. */
  validUntilMs: bigint;
}

/** A read whose failure (a revert such as ERC721NonexistentToken, an RPC error) becomes a ContractsError. */
async function read<T>(action: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw toContractsError(err, action);
  }
}

const result = (r: { hash: string; blockNumber: number; gasUsed: bigint }): TxResult => ({
  hash: r.hash,
  blockNumber: r.blockNumber,
  gasUsed: r.gasUsed,
});

/** Governance admits `account` as a maker named `name` (1–64 of A–Z a–z 0–9 space - _ .). */
export async function admitMaker(
  client: MachinefiClient,
  p: { account: string; name: string },
): Promise<TxResult & { makerId: number }> {
  const r = await client.sendTx(client.contracts.makers, "admitMaker", [p.account, p.name]);
  const makerId = Number(await client.contracts.makers.getFunction("makerIdOf")(p.account));
  return { ...result(r), makerId };
}

/** The signer (a maker) adds a model to its catalogue; returns the model's number. */
export async function addModel(client: MachinefiClient, p: { name: string }): Promise<TxResult & { model: number }> {
  const r = await client.sendTx(client.contracts.makers, "addModel", [p.name]);
  const log = r.logs.map((l) => client.contracts.makers.interface.parseLog(l)).find((e) => e?.name === "ModelAdded");
  return { ...result(r), model: Number(log!.args[1]) };
}

/** A maker by id, or by account (makerId 0 when the account is no maker). */
export async function makerOf(client: MachinefiClient, maker: number | string): Promise<MakerInfo> {
  const makers = client.contracts.makers;
  return read("makerOf", async () => {
    const makerId = typeof maker === "number" ? maker : Number(await makers.getFunction("makerIdOf")(maker));
    const [account, active, name] = (await makers.getFunction("makerOf")(makerId)) as [string, boolean, string];
    return { makerId, account, active, name };
  });
}

/** The signer, as a maker, attests device `deviceId` of model `model` for the client's DeviceRegistry. */
export async function signAttestation(
  client: MachinefiClient,
  p: { deviceId: bigint; model?: number },
): Promise<DeviceAttestation> {
  const wallet = client.contracts.devices.runner as Wallet;
  const value = { deviceId: p.deviceId, maker: client.address, model: p.model ?? 0 };
  const domain = attestationDomain(client.chainId, client.manifest.contracts.DeviceRegistry);
  const signature = await wallet.signTypedData(domain, ATTESTATION_TYPES, value);
  return { ...value, signature };
}

/** Registers a device with its maker's attestation and a proof of key bound to `owner` (default: the signer). */
export async function registerAttested(
  client: MachinefiClient,
  p: { attestation: DeviceAttestation; owner?: string; proof: Groth16Calldata },
): Promise<TxResult> {
  const { deviceId, maker, model, signature } = p.attestation;
  const { a, b, c } = p.proof;
  const args = [deviceId, p.owner ?? client.address, maker, model, signature, a, b, c];
  return result(await client.sendTx(client.contracts.devices, "registerAttested", args));
}

/** Rotates the token's key to `newKeyId` from now (owner, approved operator or maker); proof: the new key's proof of key for the token's owner. */
export async function rotateKey(
  client: MachinefiClient,
  p: { tokenId: bigint; newKeyId: bigint; proof: Groth16Calldata },
): Promise<TxResult> {
  const { a, b, c } = p.proof;
  return result(await client.sendTx(client.contracts.devices, "rotateKey", [p.tokenId, p.newKeyId, a, b, c]));
}

/** Revokes the token's current key from `fromMs` (> 0, within the key's validity). */
export async function revokeKey(client: MachinefiClient, p: { tokenId: bigint; fromMs: bigint }): Promise<TxResult> {
  return result(await client.sendTx(client.contracts.devices, "revokeKey", [p.tokenId, p.fromMs]));
}

/** The token's current key and its validity. */
export async function keyOf(client: MachinefiClient, tokenId: bigint): Promise<DeviceKey> {
  return read("keyOf", async () => {
    const [keyId, validFromMs, validUntilMs] = (await client.contracts.devices.getFunction("keyOf")(tokenId)) as [
      bigint,
      bigint,
      bigint,
    ];
    return { keyId, validFromMs, validUntilMs };
  });
}

/** The token a key belongs to (0n when the key is unknown). */
export async function tokenOfKey(client: MachinefiClient, keyId: bigint): Promise<bigint> {
  return read("tokenOfKey", async () => (await client.contracts.devices.getFunction("tokenOfKey")(keyId)) as bigint);
}

/** ERC-721 ownerOf: who is paid for the device's claims. */
export async function ownerOf(client: MachinefiClient, tokenId: bigint): Promise<string> {
  return read("ownerOf", async () => (await client.contracts.devices.getFunction("ownerOf")(tokenId)) as string);
}

/** The token's on-chain metadata (tokenURI's JSON data URI, decoded). */
export async function deviceMetadata(
  client: MachinefiClient,
  tokenId: bigint,
): Promise<{ name: string; attributes: { trait_type: string; value: string | number }[] }> {
  const uri = await read(
    "tokenURI",
    async () => (await client.contracts.devices.getFunction("tokenURI")(tokenId)) as string,
  );
  const prefix = "data:application/json;base64,";
  if (!uri.startsWith(prefix)) throw new ContractsError(`tokenURI of ${tokenId} is not a JSON data URI`);
  return JSON.parse(
    new TextDecoder().decode(Uint8Array.from(atob(uri.slice(prefix.length)), (ch) => ch.charCodeAt(0))),
  );
}
