/**
 * A maker's attestation that it made a device, and the device's side of an attested registration: the one
 * definition shared by makers (who sign it, `mfi maker attest`), devices and owners (who carry it) and
 * DeviceRegistry (which checks it: `registerAttested`). EIP-712, domain "machinefi DeviceRegistry" version "1"
 * bound to one chain and one registry, type `DeviceAttestation(uint256 deviceId, address maker, uint16 model)`.
 * No ethers import (the SDK core stays portable): any signer with ethers' signTypedData shape signs it.
 */
import { registrationMessage } from "./chain.ts";
import type { EddsaBackend, PublicKey, Signature } from "./eddsa-api.ts";
import { SdkError } from "./errors.ts";
import { addressToBigInt, type DeviceKey } from "./keys.ts";

export const ATTESTATION_DOMAIN_NAME = "machinefi DeviceRegistry";
export const ATTESTATION_DOMAIN_VERSION = "1";

export const ATTESTATION_TYPES = {
  DeviceAttestation: [
    { name: "deviceId", type: "uint256" },
    { name: "maker", type: "address" },
    { name: "model", type: "uint16" },
  ],
};

/** A maker's signed statement that it made `deviceId`, model number `model` of its catalogue. */
export interface DeviceAttestation {
  deviceId: bigint;
  /** The maker's account (it signed). */
  maker: string;
  model: number;
  /** EIP-712 signature, 65 bytes hex. */
  signature: string;
}

/** JSON form (what `mfi maker attest` writes): deviceId as a decimal string, plus where it is valid. */
export interface WireAttestation {
  deviceId: string;
  maker: string;
  model: number;
  signature: string;
  chainId?: number;
  registry?: string;
}

/** An attestation file or object is malformed, or is for another device than the key in hand. */
export class AttestationFormatError extends SdkError {
  override name = "AttestationFormatError";
}

export function attestationDomain(chainId: bigint | number, registry: string) {
  return {
    name: ATTESTATION_DOMAIN_NAME,
    version: ATTESTATION_DOMAIN_VERSION,
    chainId,
    verifyingContract: registry,
  };
}

export function encodeAttestation(
  a: DeviceAttestation,
  where: { chainId?: number; registry?: string } = {},
): WireAttestation {
  return { deviceId: a.deviceId.toString(), maker: a.maker, model: a.model, signature: a.signature, ...where };
}

/** Checks the shape (not the signature: DeviceRegistry does that on chain) and converts. */
export function decodeAttestation(w: unknown): DeviceAttestation {
  const o = (w ?? {}) as Record<string, unknown>;
  const bad = (why: string) =>
    new AttestationFormatError(`not a device attestation: ${why}`, {
      metaMessages: ["Ask the device's maker for one (`mfi maker attest <deviceId>`)."],
    });
  if (typeof o.deviceId !== "string" || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(o.deviceId)) throw bad("deviceId");
  if (typeof o.maker !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(o.maker)) throw bad("maker is not an address");
  if (typeof o.model !== "number" || !Number.isInteger(o.model) || o.model < 0 || o.model > 65_535)
    throw bad("model is not a uint16");
  if (typeof o.signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(o.signature))
    throw bad("signature is not 65 bytes of hex");
  return { deviceId: BigInt(o.deviceId), maker: o.maker, model: o.model, signature: o.signature };
}

/**
 * The device's part of an attested registration for `owner` on (chainId, registry): its EdDSA signature over
 * `registrationMessage(owner, chainId, registry)` — the witness of the proof of key (circuits' proveRegistration) —
 * with its public key, next to the maker's attestation, which must name this device.
 */
export function attestedRegistration(o: {
  backend: EddsaBackend;
  key: DeviceKey;
  attestation: DeviceAttestation;
  owner: string;
  chainId: bigint;
  registry: string;
}): { deviceId: bigint; publicKey: PublicKey; signature: Signature; attestation: DeviceAttestation } {
  if (o.attestation.deviceId !== o.key.deviceId)
    throw new AttestationFormatError(
      `the attestation is for device ${o.attestation.deviceId}, not for this key's device ${o.key.deviceId}`,
    );
  const message = registrationMessage(addressToBigInt(o.owner), o.chainId, addressToBigInt(o.registry));
  return {
    deviceId: o.key.deviceId,
    publicKey: o.key.publicKey,
    signature: o.backend.sign(o.key.privateKey, message),
    attestation: o.attestation,
  };
}
