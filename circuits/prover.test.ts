import { describe, it, expect, afterAll } from "vitest";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { AbiCoder } from "ethers";
import { parseImageId } from "../core/index.ts";
import { registrationMessage } from "../device-sdk/index.ts";
import {
  proveClaim,
  verifyReceipt,
  closeProver,
  toCalldata,
  receiptToJSON,
  receiptFromJSON,
  ProverPool,
  proveRegistration,
  verifyRegistration,
  verificationKey,
  claimPublicSignals,
  ReceiptMismatchError,
  InvalidVerifyOptionsError,
} from "./index.ts";
import { R } from "./setup/field.ts";
import { snarkjsProof } from "./prover.ts";
import { poolBackend } from "./pool.ts";
import { NATIVE_ADDON } from "./native/loader.ts";
import { WASM_PROVER } from "./wasm-prover/addon.ts";
import { existsSync } from "node:fs";
import { deviceKey, makeChain, epochPoints, backend, EPOCH, EPOCH_PACKED, IMAGE_ID } from "./fixtures.ts";

afterAll(closeProver);

describe("proveClaim / verifyReceipt (real Groth16 proofs)", () => {
  it("proves the sum of an epoch's readings; the receipt round-trips JSON and binds every public signal", async () => {
    const key = await deviceKey(1);
    const readings = await makeChain(key, epochPoints([5n, 7n, 11n], { after: 2 }));
    const stages: string[] = [];
    const r = await proveClaim({
      readings,
      devicePublicKey: key.publicKey,
      epoch: EPOCH,
      imageId: IMAGE_ID,
      reducer: "sum",
      claim: 23n,
      onProgress: (e) => stages.push(e.stage),
    });
    expect(stages[0]).toBe("queued");
    expect(stages).toContain("witness");
    expect(r.seal.circuit).toBe("readings_sum_16");
    expect(r.claim).toMatchObject({ output: 23n, epoch: EPOCH_PACKED, deviceId: key.deviceId, imageId: IMAGE_ID });
    expect(r.segment).toMatchObject({ firstSeq: 2n, signedSeq: 6n, insideCount: 3 });
    const applet = { imageId: IMAGE_ID, reducer: "sum" as const };
    expect(await verifyReceipt(r, { applet })).toBe(true);
    expect(Object.keys(JSON.parse(receiptToJSON(r))).sort()).toEqual(["claim", "publicSignals", "seal", "segment"]);
    const back = receiptFromJSON(receiptToJSON(r));
    expect(await verifyReceipt(back, { applet })).toBe(true);

    // The claim is rebuilt into signals: changing any field breaks verification.
    for (const claim of [
      { output: 24n },
      { deviceId: key.deviceId + 1n },
      { epoch: EPOCH_PACKED + 1n },
      { imageId: parseImageId("cd".repeat(32)) },
    ]) {
      const c = { ...back.claim, ...claim };
      expect(
        await verifyReceipt(
          { ...back, claim: c, publicSignals: claimPublicSignals(c) },
          { applet: { ...applet, imageId: c.imageId } },
        ),
      ).toBe(false);
    }
    // An output at or above the field modulus is refused (snarkjs alone would reduce it mod r; the vault refuses it).
    const wrapped = { ...back.claim, output: 23n + R };
    expect(
      await verifyReceipt({ ...back, claim: wrapped, publicSignals: claimPublicSignals(wrapped) }, { applet }),
    ).toBe(false);
    // And snarkjs itself rejects each tampered public signal.
    const vk = verificationKey("readings_sum_16");
    for (let i = 0; i < 4; i++) {
      const signals = r.publicSignals.map((s, j) => String(j === i ? s + 1n : s));
      expect(await snarkjs.groth16.verify(vk, signals, snarkjsProof(r.seal))).toBe(false);
    }

    // Calldata: abi.encode(k, a, b (swapped for Solidity), c), the same numbers snarkjs's own calldata export gives.
    const cd = toCalldata(r);
    expect(cd).toMatchObject({ imageId: IMAGE_ID, deviceId: key.deviceId, epoch: EPOCH_PACKED, output: 23n });
    const [k, a, b, c] = AbiCoder.defaultAbiCoder().decode(
      ["uint256", "uint256[2]", "uint256[2][2]", "uint256[2]"],
      cd.proof,
    );
    const ref = JSON.parse(
      "[" + (await snarkjs.groth16.exportSolidityCallData(snarkjsProof(r.seal), r.publicSignals.map(String))) + "]",
    );
    expect(k).toBe(16n);
    expect([a, b, c].map((x) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))).toEqual(
      ref
        .slice(0, 3)
        .map((x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "string" ? BigInt(v).toString() : v))),
    );
  }, 240_000);

  it("proves count_above and max, and a chain that starts inside the epoch (genesis), two proofs at once", async () => {
    const key = await deviceKey(4);
    const withBefore = await makeChain(key, epochPoints([3n, 9n, 10n, 2n]));
    const fromGenesis = await makeChain(key, epochPoints([8n, 1n], { before: 0 }));
    const pool = new ProverPool(2);
    try {
      const common = { devicePublicKey: key.publicKey, epoch: EPOCH_PACKED, imageId: IMAGE_ID, pool };
      const [count, max, genesis] = await Promise.all([
        proveClaim({ ...common, readings: withBefore, reducer: "count_above", params: { threshold: 3n }, claim: 2n }),
        proveClaim({ ...common, readings: withBefore, reducer: "max", claim: 10n }),
        proveClaim({ ...common, readings: fromGenesis, reducer: "sum", claim: 9n }),
      ]);
      expect(count.seal.circuit).toBe("readings_count_above_16");
      expect(count.publicSignals).toHaveLength(5);
      expect(count.publicSignals[4]).toBe(3n);
      expect(max.claim.output).toBe(10n);
      expect(genesis.segment.firstSeq).toBe(1n);
      const applets = {
        count: { imageId: IMAGE_ID, reducer: "count_above" as const, param: 3n },
        max: { imageId: IMAGE_ID, reducer: "max" as const },
        sum: { imageId: IMAGE_ID, reducer: "sum" as const },
      };
      expect(await verifyReceipt(count, { applet: applets.count })).toBe(true);
      expect(await verifyReceipt(max, { applet: applets.max })).toBe(true);
      expect(await verifyReceipt(genesis, { applet: applets.sum })).toBe(true);
      // A receipt cannot be re-labelled with another parameter or reducer.
      await expect(
        verifyReceipt({ ...count, claim: { ...count.claim, param: 4n } }, { applet: applets.count }),
      ).rejects.toBeInstanceOf(ReceiptMismatchError);
      await expect(
        verifyReceipt({ ...max, claim: { ...max.claim, reducer: "sum" } }, { applet: applets.max }),
      ).rejects.toBeInstanceOf(ReceiptMismatchError);
      // A malformed expected applet is a typed error, not a verdict.
      await expect(
        verifyReceipt(count, { applet: { imageId: IMAGE_ID, reducer: "count_above" } }),
      ).rejects.toBeInstanceOf(InvalidVerifyOptionsError);
      await expect(verifyReceipt(max, { applet: { imageId: "0x12", reducer: "max" } })).rejects.toBeInstanceOf(
        InvalidVerifyOptionsError,
      );
      await expect(
        verifyReceipt(max, { applet: { imageId: IMAGE_ID, reducer: "max", param: 1n } }),
      ).rejects.toBeInstanceOf(InvalidVerifyOptionsError);
    } finally {
      await pool.close();
    }
  }, 240_000);

  it("proves a registration that DeviceRegistry's signals verify, and rejects another owner", async () => {
    const key = await deviceKey(5);
    const owner = "0x" + "11".repeat(20);
    const registry = "0x" + "22".repeat(20);
    const signature = (await backend()).sign(
      key.privateKey,
      registrationMessage(BigInt(owner), 31337n, BigInt(registry)),
    );
    const p = await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId: 31337n, registry });
    expect(p.publicSignals).toEqual([key.deviceId, BigInt(owner), 31337n, BigInt(registry)]);
    expect(await verifyRegistration(p)).toBe(true);
    expect(
      await verifyRegistration({ ...p, publicSignals: [key.deviceId, BigInt(owner) + 1n, 31337n, BigInt(registry)] }),
    ).toBe(false);
    await expect(verifyRegistration({ ...p, publicSignals: p.publicSignals.slice(0, 3) })).rejects.toThrow(
      /3 public signals for register, whose verification key has nPublic = 4/,
    );
    expect(p.calldata.b[0]).toEqual([p.b[0][1], p.b[0][0]]);
    await expect(
      proveRegistration({
        publicKey: key.publicKey,
        signature,
        owner: "0x" + "33".repeat(20),
        chainId: 31337n,
        registry,
      }),
    ).rejects.toThrow(/proving failed/);
  }, 240_000);

  it("the pool proves with the native prover when it is built (each proof verified), with snarkjs when MFI_PROVER=snarkjs", async () => {
    const key = await deviceKey(6);
    const owner = "0x" + "44".repeat(20);
    const registry = "0x" + "55".repeat(20);
    const signature = (await backend()).sign(
      key.privateKey,
      registrationMessage(BigInt(owner), 31337n, BigInt(registry)),
    );
    const chosen = poolBackend();
    const built = existsSync(NATIVE_ADDON);
    // a build that produced the addon must also choose it (a self-check failure would say why here)
    expect(chosen.backend, chosen.reason).toBe(built ? "native" : existsSync(WASM_PROVER) ? "wasm" : "snarkjs");
    const prove = async () => {
      const pool = new ProverPool(1);
      try {
        return await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId: 31337n, registry, pool });
      } finally {
        await pool.close();
      }
    };
    const a = await prove();
    expect(a.stats.backend).toBe(chosen.backend);
    expect(a.stats.fallback).toBeUndefined();
    expect(await verifyRegistration(a)).toBe(true);
    const saved = process.env.MFI_PROVER;
    process.env.MFI_PROVER = "snarkjs";
    try {
      expect(poolBackend()).toEqual({ backend: "snarkjs", reason: "MFI_PROVER=snarkjs" });
      const b = await prove();
      expect(b.stats.backend).toBe("snarkjs");
      expect(await verifyRegistration(b)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.MFI_PROVER;
      else process.env.MFI_PROVER = saved;
    }
  }, 240_000);
});
