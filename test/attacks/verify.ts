/**
 * Medium (issue 16): the off-chain verifier accepted receipts the vault would refuse, because verifyReceipt and
 * `mfi verify` took the circuit, reducer and threshold from the receipt itself, and always used the dev keys. Each
 * test below builds the receipt an attacker would hand over and checks it against the applet it must be for.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { parseImageId } from "../../core/index.ts";
import { registrationMessage, type DeviceKey } from "../../device-sdk/index.ts";
import {
  proveClaim,
  proveRegistration,
  verifyRegistration,
  verifyReceipt,
  verifyGroth16,
  verificationKey,
  closeProver,
  claimPublicSignals,
  receiptToJSON,
  ReceiptMismatchError,
  type Receipt,
} from "../../circuits/index.ts";
import { snarkjsProof } from "../../circuits/prover.ts";
import { deviceKey, makeChain, epochPoints, backend, EPOCH, EPOCH_PACKED } from "../../circuits/fixtures.ts";
import { forgeDevProof } from "../forge.ts";
import { runInProcess } from "../../cli/run-in-process.ts";
import { register as registerVerify } from "../../cli/commands/verify.ts";
import { appletFromPath } from "../../cli/verify-applet.ts";
import { legacyApplet } from "../legacy-applet.ts";
import { prodLikeKeys } from "../prod-keys.ts";

/** energy-sum as a sum applet was declared before compiled applets (its receipts are the built-in reducer circuit's). */
const ENERGY_SUM = legacyApplet("energy-sum", "sum");
const MAX_APPLET = "0x" + "3a".repeat(32);
const COUNT_APPLET = "0x" + "c0".repeat(32);

describe(
  "attack: the off-chain verifier trusts the receipt's own circuit, reducer and threshold",
  { timeout: 240_000 },
  () => {
    let key: DeviceKey;
    let readings: Awaited<ReturnType<typeof makeChain>>;
    beforeAll(async () => {
      key = await deviceKey(22);
      readings = await makeChain(key, epochPoints([5n, 7n, 11n]));
    });
    afterAll(closeProver);

    it("a register proof passed off as a claim is refused (its four signals line up with a claim's)", async () => {
      const owner = "0x" + "77".repeat(20);
      const registry = "0x" + "88".repeat(20);
      const signature = (await backend()).sign(
        key.privateKey,
        registrationMessage(BigInt(owner), 31337n, BigInt(registry)),
      );
      const reg = await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId: 31337n, registry });
      expect(await verifyRegistration(reg)).toBe(true);
      // [deviceId, owner, chainId, registry] read as [imageIdField, deviceId, epoch, output]: an applet whose imageId
      // field is the device's id would pay `registry` (a 160-bit number) units to device `owner`.
      const imageId = parseImageId(key.deviceId);
      const claim = {
        imageId,
        deviceId: BigInt(owner),
        epoch: 31337n,
        output: BigInt(registry),
        reducer: "sum" as const,
      };
      const forged: Receipt = {
        seal: { protocol: "groth16", curve: "bn128", circuit: "register", k: 16, a: reg.a, b: reg.b, c: reg.c },
        claim,
        segment: { firstSeq: 1n, signedSeq: 1n, insideCount: 1 },
        publicSignals: claimPublicSignals(claim),
      };
      expect(forged.publicSignals).toEqual(reg.publicSignals);
      await expect(verifyReceipt(forged, { applet: { imageId, reducer: "sum" } })).rejects.toThrow(
        ReceiptMismatchError,
      );
      await expect(verifyReceipt(forged, { applet: { imageId, reducer: "sum" } })).rejects.toThrow(
        /not a readings circuit/,
      );
    });

    it("a sum proof checked against a max applet's imageId is refused (the sum, 23, would be paid as the max, 11)", async () => {
      // imageId is only a public input: anyone proves the sum circuit under the max applet's imageId.
      const r = await proveClaim({
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
        imageId: MAX_APPLET,
        reducer: "sum",
        claim: 23n,
      });
      expect(r.claim.output).toBe(23n);
      await expect(verifyReceipt(r, { applet: { imageId: MAX_APPLET, reducer: "max" } })).rejects.toThrow(
        /readings_sum_16 but the applet's reducer max is proven by readings_max_16/,
      );
      // Relabelling the receipt's reducer does not help: the circuit follows from the applet, and its key rejects.
      const relabelled = {
        ...r,
        seal: { ...r.seal, circuit: "readings_max_16" as const },
        claim: { ...r.claim, reducer: "max" as const },
      };
      expect(await verifyReceipt(relabelled, { applet: { imageId: MAX_APPLET, reducer: "max" } })).toBe(false);
    });

    it("a count_above receipt with the threshold left out is refused (snarkjs would check it with threshold 0)", async () => {
      // Proven with threshold 0: all three readings count. The applet's threshold is 9: only 11 counts.
      const r = await proveClaim({
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
        imageId: COUNT_APPLET,
        reducer: "count_above",
        params: { threshold: 0n },
        claim: 3n,
      });
      const { param: _dropped, ...claim } = r.claim;
      const stripped: Receipt = { ...r, claim, publicSignals: r.publicSignals.slice(0, 4) };
      // Why: snarkjs folds only the signals it is given, so four signals verify as threshold 0.
      expect(
        await snarkjs.groth16.verify(
          verificationKey("readings_count_above_16"),
          stripped.publicSignals.map(String),
          snarkjsProof(r.seal),
        ),
      ).toBe(true);
      await expect(
        verifyReceipt(stripped, { applet: { imageId: COUNT_APPLET, reducer: "count_above", param: 9n } }),
      ).rejects.toThrow(/threshold \(none\), the applet's is 9/);
      // The signal count is checked against the key's nPublic wherever a proof is verified.
      await expect(
        verifyGroth16({
          vk: verificationKey("readings_count_above_16"),
          signals: stripped.publicSignals,
          proof: r.seal,
          circuit: "readings_count_above_16",
        }),
      ).rejects.toThrow(/4 public signals .* nPublic = 5/);
    });

    it("mfi verify always used the dev keys: --build-dir selects production keys, against which a dev-key forgery fails", async () => {
      const prodDir = mkdtempSync(join(tmpdir(), "mfi-prod-keys-"));
      try {
        await prodLikeKeys("readings_sum_16", prodDir);
        // energy-sum (a sum applet) as built here: `mfi verify --applet` derives the same imageId from its Wasm.
        const applet = appletFromPath(ENERGY_SUM);
        // A claim of 10^18 units no device ever signed, forged from the public seed: valid under the dev keys only.
        const claim = {
          imageId: parseImageId(applet.imageId),
          deviceId: key.deviceId,
          epoch: EPOCH_PACKED,
          output: 10n ** 18n,
          reducer: "sum" as const,
        };
        const signals = claimPublicSignals(claim);
        const forged: Receipt = {
          seal: {
            protocol: "groth16",
            curve: "bn128",
            circuit: "readings_sum_16",
            k: 16,
            ...(await forgeDevProof("readings_sum_16", signals)),
          },
          claim,
          segment: { firstSeq: 1n, signedSeq: 1n, insideCount: 1 },
          publicSignals: signals,
        };
        expect(await verifyReceipt(forged, { applet })).toBe(true);
        expect(await verifyReceipt(forged, { applet, buildDir: prodDir })).toBe(false);
        // The same through the CLI: dev keys by default (with the INSECURE warning), --build-dir for production.
        const file = join(prodDir, "forged.json");
        writeFileSync(file, receiptToJSON(forged));
        const dev = await runInProcess([registerVerify], ["verify", file, "--applet", ENERGY_SUM]);
        expect(dev.code, dev.stderr).toBe(0);
        expect(dev.stderr).toContain("INSECURE");
        const prod = await runInProcess(
          [registerVerify],
          ["verify", file, "--applet", ENERGY_SUM, "--build-dir", prodDir],
        );
        expect(prod.code, prod.stderr).toBe(1);
        expect(prod.stdout).toMatch(/^INVALID/);
        // An honest proof made with the production keys verifies with them, and not with the dev keys.
        const honest = await proveClaim({
          readings,
          devicePublicKey: key.publicKey,
          epoch: EPOCH,
          imageId: applet.imageId,
          reducer: "sum",
          claim: 23n,
          buildDir: prodDir,
          sizes: [16],
        });
        expect(await verifyReceipt(honest, { applet, buildDir: prodDir })).toBe(true);
        expect(await verifyReceipt(honest, { applet })).toBe(false);
      } finally {
        rmSync(prodDir, { recursive: true, force: true });
      }
    });
  },
);
