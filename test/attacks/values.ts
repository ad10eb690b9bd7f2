/**
 * Medium (issue 16): negative values wrap modulo r. A negative i64 enters the device's chain as r - |v|; the sum
 * circuit added inside values with no range check, so a hand-built witness (the prover's own checks bypassed) claimed
 * output = r - 5 for a chain holding 3 and -8, which mints about r tokens at any reward per unit. Every value a
 * reducer reads is now range-checked to [0, 2^63) in every readings circuit: such a chain has no witness at all.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { imageIdToField, type DeviceKey } from "../../device-sdk/index.ts";
import { artifactsOf } from "../../circuits/setup/build.ts";
import { R } from "../../circuits/setup/field.ts";
import { readingsInput } from "../../circuits/witness.ts";
import { closeProver, proveClaim, ValueRangeError } from "../../circuits/index.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, EPOCH_PACKED, IMAGE_ID } from "../../circuits/fixtures.ts";

/** Whether the real circuit (build/circuits/<name>) has a witness for this input: the constraints decide, not the prover. */
async function hasWitness(input: Record<string, unknown>, name: string): Promise<boolean> {
  try {
    await snarkjs.wtns.calculate(input, artifactsOf(name).wasm, { type: "mem" });
    return true;
  } catch {
    return false;
  }
}

describe("attack: negative values wrap modulo r", { timeout: 120_000 }, () => {
  let key: DeviceKey;
  beforeAll(async () => {
    key = await deviceKey(21);
  });
  afterAll(closeProver);

  /** The witness input for a signed chain whose inside values are `values`, claiming `output` (no prover checks). */
  const handBuilt = async (values: bigint[], output: bigint, param?: bigint) => {
    const chain = await makeChain(key, epochPoints(values));
    const segment = { before: chain[0], slots: chain.slice(1), insideCount: values.length };
    return readingsInput({
      segment,
      k: 16,
      publicKey: key.publicKey,
      imageIdField: imageIdToField(IMAGE_ID),
      epoch: EPOCH_PACKED,
      output,
      param,
    });
  };

  it("a chain with a negative inside value has no witness for the wrapped sum r - |sum|", async () => {
    expect(await hasWitness(await handBuilt([3n, -8n], R - 5n), "readings_sum_16")).toBe(false);
    expect(await hasWitness(await handBuilt([-5n], R - 5n), "readings_sum_16")).toBe(false);
    // The same chain shape with honest values proves, so the refusal is the range check's doing.
    expect(await hasWitness(await handBuilt([3n, 8n], 11n), "readings_sum_16")).toBe(true);
  });

  it("a negative inside value has no witness in the count_above and max circuits either", async () => {
    expect(await hasWitness(await handBuilt([3n, -1n], 1n, 2n), "readings_count_above_16")).toBe(false);
    expect(await hasWitness(await handBuilt([3n, -1n], 3n), "readings_max_16")).toBe(false);
  });

  it("the prover refuses a negative inside value with ValueRangeError before proving", async () => {
    const readings = await makeChain(key, epochPoints([3n, -8n]));
    await expect(
      proveClaim({ readings, devicePublicKey: key.publicKey, epoch: EPOCH, imageId: IMAGE_ID, reducer: "sum" }),
    ).rejects.toBeInstanceOf(ValueRangeError);
  });
});
