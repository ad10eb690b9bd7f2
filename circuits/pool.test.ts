/** The prover pool's failures are ProvingErrors: a witness the circuit refuses, a closed pool. */
import { describe, expect, it } from "vitest";
import { artifactsOf, ProverPool, ProvingError } from "./index.ts";

describe("ProverPool", () => {
  it("inputs the circuit refuses reject with ProvingError; so does a closed pool", async () => {
    const pool = new ProverPool(1);
    const a = artifactsOf("register");
    try {
      // Not a registration: wrong and missing signals, so the witness calculator refuses it.
      const bad = { Ax: "1", Ay: "2", R8x: "3", R8y: "4", S: "5", msg: "6" };
      const err = await pool.prove(bad as never, a.wasm, a.zkey).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProvingError);
      expect((err as ProvingError).shortMessage).toMatch(/^proving failed/);
    } finally {
      await pool.close();
    }
    const closed = await pool.prove({} as never, a.wasm, a.zkey).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(ProvingError);
    expect((closed as ProvingError).shortMessage).toMatch(/closed/);
  }, 60_000);
});
