import { describe, it, expect, afterAll } from "vitest";
import { proveClaim, verifyReceipt, closeProver, toCalldata, receiptToJSON, receiptFromJSON } from "./index.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, EPOCH_PACKED, IMAGE_ID } from "./fixtures.ts";

afterAll(closeProver);

describe("proveClaim / verifyReceipt (real Groth16, readings_sum_16)", () => {
  it("proves the sum of an epoch's readings and the receipt verifies", async () => {
    const key = await deviceKey(1);
    const readings = await makeChain(key, epochPoints([5n, 7n, 11n]));
    const r = await proveClaim({ readings, devicePublicKey: key.publicKey, epoch: EPOCH, imageId: IMAGE_ID, reducer: "sum", claim: 23n });
    expect(r.seal.circuit).toBe("readings_sum_16");
    expect(r.claim.output).toBe(23n);
    expect(r.claim.epoch).toBe(EPOCH_PACKED);
    expect(await verifyReceipt(r)).toBe(true);
    const back = receiptFromJSON(receiptToJSON(r));
    expect(await verifyReceipt(back)).toBe(true);
    expect(await verifyReceipt({ ...back, claim: { ...back.claim, output: 24n }, publicSignals: [...back.publicSignals.slice(0, 3), 24n] })).toBe(false);
    expect(toCalldata(r).proof).toMatch(/^0x[0-9a-f]{576}$/);
  });
});
