/**
 * The worker's prover picks the applet's compiled circuit by segment size, and refuses for good (ProofRefusedError,
 * no retry) what can never be proven: an applet the compiler cannot express, a segment longer than every K.
 */
import { afterAll, describe, expect, it } from "vitest";
import { EPOCH, deviceKey, epochPoints, makeChain } from "../circuits/fixtures.ts";
import { NotProvableError } from "../circuits/index.ts";
import type { DeviceRecord } from "../store/index.ts";
import { imageIdHex } from "../core/index.ts";
import { hashReading } from "../device-sdk/index.ts";
import { imageIdOf } from "../runtime/index.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import { appletWat } from "../runtime/testing.ts";
import { ProofRefusedError } from "./errors.ts";
import { circuitsProvePort, type ProverHandle } from "./prover-port.ts";
import type { ProveArgs } from "./ports.ts";

const handles: ProverHandle[] = [];
afterAll(async () => {
  for (const h of handles) await h.close();
});

async function args(applet: string | Uint8Array, inside: bigint[]): Promise<ProveArgs> {
  const key = await deviceKey(7);
  const chain = (await makeChain(key, epochPoints(inside))).map((r) => ({
    ...r,
    signature: r.signature ?? null,
    hash: hashReading(r),
    receivedAt: 0,
  }));
  const wasm = typeof applet === "string" ? loadBuiltApplet(applet) : applet;
  return {
    applet: { imageId: imageIdHex(imageIdOf(wasm)), name: "applet", wasm, rewardPerUnit: 1n },
    device: { deviceId: key.deviceId, publicKey: key.publicKey } as DeviceRecord,
    epoch: { startMs: EPOCH.startMs, lengthMs: EPOCH.lengthMs },
    output: inside.reduce((a, b) => a + b),
    before: chain[0],
    inside: chain.slice(1, 1 + inside.length),
    after: chain.slice(1 + inside.length),
    journalDigest: "00".repeat(32),
  };
}

describe("the worker's prover (compiled circuits)", () => {
  it("refuses an applet the compiler cannot express for good, naming the NotProvableError", async () => {
    const h = circuitsProvePort();
    handles.push(h);
    // an applet that never claims (uptime-streak, stateful, is provable since PayoutVault.claimStateful: issue 18)
    const err = await h.prove(await args(appletWat({ main: "" }), [1n, 2n])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofRefusedError);
    expect((err as ProofRefusedError).cause).toBeInstanceOf(NotProvableError);
  });

  it("refuses a segment longer than the largest K before compiling anything", async () => {
    const h = circuitsProvePort({ sizes: [2] });
    handles.push(h);
    const err = await h.prove(await args("energy-sum", [1n, 2n, 3n])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofRefusedError);
    expect((err as Error).message).toMatch(/needs 4 slots .* K = 2/);
  });
});
