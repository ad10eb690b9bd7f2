/** The attestation's one definition: JSON round trip, every malformed field refused, the device's side bound to its key. */
import { describe, expect, it } from "vitest";
import { Wallet, verifyTypedData } from "ethers";
import {
  ATTESTATION_TYPES,
  AttestationFormatError,
  attestationDomain,
  attestedRegistration,
  decodeAttestation,
  encodeAttestation,
} from "./attestation.ts";
import { buildJsBackend } from "./eddsa-js.ts";
import { loadDeviceKey } from "./keys.ts";
import { registrationMessage } from "./chain.ts";
import { addressToBigInt } from "./keys.ts";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("device attestation", () => {
  it("a maker's EIP-712 signature round-trips through JSON and recovers to the maker", async () => {
    const maker = Wallet.createRandom();
    const value = { deviceId: 123456789n, maker: maker.address, model: 2 };
    const signature = await maker.signTypedData(attestationDomain(31337, REGISTRY), ATTESTATION_TYPES, value);
    const wire = JSON.parse(
      JSON.stringify(encodeAttestation({ ...value, signature }, { chainId: 31337, registry: REGISTRY })),
    );
    const back = decodeAttestation(wire);
    expect(back).toEqual({ ...value, signature });
    expect(verifyTypedData(attestationDomain(31337, REGISTRY), ATTESTATION_TYPES, value, back.signature)).toBe(
      maker.address,
    );
    // another chain's domain recovers someone else
    expect(verifyTypedData(attestationDomain(4690, REGISTRY), ATTESTATION_TYPES, value, back.signature)).not.toBe(
      maker.address,
    );
  });

  it("refuses every malformed field with AttestationFormatError", () => {
    const good = { deviceId: "12", maker: "0x" + "ab".repeat(20), model: 0, signature: "0x" + "11".repeat(65) };
    expect(decodeAttestation(good).deviceId).toBe(12n);
    for (const bad of [
      null,
      { ...good, deviceId: "twelve" },
      { ...good, maker: "0x1234" },
      { ...good, model: 70_000 },
      { ...good, model: 1.5 },
      { ...good, signature: "0x1234" },
    ])
      expect(() => decodeAttestation(bad)).toThrow(AttestationFormatError);
  });

  it("the device signs its registration for the owner, and only with an attestation for its own key", async () => {
    const backend = await buildJsBackend();
    const key = loadDeviceKey(backend, new Uint8Array(32).fill(3));
    const owner = "0x" + "cd".repeat(20);
    const attestation = { deviceId: key.deviceId, maker: owner, model: 0, signature: "0x" + "11".repeat(65) };
    const r = attestedRegistration({ backend, key, attestation, owner, chainId: 31337n, registry: REGISTRY });
    const message = registrationMessage(addressToBigInt(owner), 31337n, addressToBigInt(REGISTRY));
    expect(backend.verify({ msg: message, sig: r.signature, publicKey: key.publicKey })).toBe(true);
    expect(() =>
      attestedRegistration({
        backend,
        key,
        attestation: { ...attestation, deviceId: key.deviceId + 1n },
        owner,
        chainId: 31337n,
        registry: REGISTRY,
      }),
    ).toThrow(/not for this key's device/);
  });
});
