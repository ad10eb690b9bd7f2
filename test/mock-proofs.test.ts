/**
 * `--mock-proofs` agrees with real proofs, claim for claim (issue 22). On a devnet with mock proofs (real anvil,
 * gateway, SQLite, runtime and worker; MockVerifier on chain), three devices post one epoch each: an honest one, one
 * with a negative values[0] (the runtime sums it happily; the circuit proves values[0] in [0, 2^63) only) and one with
 * 70 readings in the epoch (71 slots with the signed reading after it: more than the largest K). Before, mock proofs paid all three; now the mock
 * prover checks what a proof checks (the compiled circuit's witness, the segment, K) and refuses the two a real
 * proof refuses. The real prover is then asked for the same three claims: it pays and refuses the same ones. An
 * applet the compiler cannot express (uptime-streak) is skipped at registration, as with real proofs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackEpoch } from "../device-sdk/index.ts";
import { closeProver } from "../circuits/index.ts";
import { circuitsProvePort, ProofRefusedError, type ProveArgs, type ProverHandle } from "../worker/index.ts";
import type { ClaimRow } from "../store/index.ts";
import { startHistoricalDevnet, waitFor, type HistoricalDevnet } from "./helpers.ts";

const EPOCH = 10_000;
let h: HistoricalDevnet;
const lines: string[] = [];
let real: ProverHandle | undefined;

beforeAll(async () => {
  h = await startHistoricalDevnet({
    epochMs: EPOCH,
    devices: 3,
    applets: ["energy-sum", "uptime-streak"],
    mockProofs: true,
  });
}, 600_000);

afterAll(async () => {
  await real?.close();
  await h?.net.stop();
  await closeProver();
});

/** What the worker hands its prover for a claim (worker.ts proveOne), read back from the devnet's store. */
async function proveArgsOf(c: ClaimRow): Promise<ProveArgs> {
  const { store } = h.net;
  const deviceId = BigInt(c.device_id);
  const epoch = unpackEpoch(BigInt(c.epoch));
  const end = epoch.startMs + epoch.lengthMs;
  const inside = await store.listReadings({ deviceId, fromTs: epoch.startMs, toTs: end - 1n, limit: 1000 });
  const tail = await store.listReadings({ deviceId, fromSeq: inside[inside.length - 1]!.seq + 1n, limit: 200 });
  return {
    applet: (await store.worker.getApplet(c.image_id))!,
    device: (await store.getDevice(deviceId))!,
    epoch,
    output: BigInt(c.output),
    before: inside[0]!.seq > 1n ? await store.getReading(deviceId, inside[0]!.seq - 1n) : undefined,
    inside,
    after: tail.slice(0, tail.findIndex((r) => r.signature !== null && r.ts >= end) + 1),
    journalDigest: (await store.worker.getRun(c.run_id))!.journal_digest,
  };
}

describe("mock proofs refuse what real proofs refuse", () => {
  it("pays the honest claim, refuses the negative values[0] and the oversized segment, like the real prover", async () => {
    const { net, base, devices } = h;
    expect(net.applets.map((a) => a.name)).toEqual(["energy-sum"]);
    const epochs: { ts: number; values: bigint[] }[][] = [
      [5n, 6n, 7n].map((v, j) => ({ ts: base + 500 + j * 1000, values: [v] })),
      [9n, -3n, 4n].map((v, j) => ({ ts: base + 500 + j * 1000, values: [v] })),
      Array.from({ length: 70 }, (_, j) => ({ ts: base + 100 + j * 100, values: [1n] })),
    ];
    for (const [i, d] of devices.entries()) {
      expect((await d.client.sendBatch(epochs[i]!)).status).toBe("accepted");
      expect((await d.client.sendBatch([{ ts: base + EPOCH + 500, values: [1n] }])).status).toBe("accepted");
    }
    const ownerBefore = await net.admin.balanceOf(net.owners[0]!);
    net.worker.start(100);
    await waitFor(async () => {
      const n = await net.store.worker.claimCounts();
      return n.paid + n.failed >= 3;
    }, 300_000);
    const claims = (await net.store.worker.listClaims(10)).sort((a, b) => a.id - b.id);
    const byDevice = new Map(claims.map((c) => [BigInt(c.device_id), c]));
    const [honest, negative, long] = devices.map((d) => byDevice.get(d.key.deviceId)!);
    expect(honest).toMatchObject({ state: "paid", output: "18" });
    expect(negative).toMatchObject({ state: "failed", output: "10" });
    expect(negative!.error).toMatch(/values\[0\] = -3 < 0/);
    expect(long).toMatchObject({ state: "failed", output: "70" });
    expect(long!.error).toMatch(/needs 71 slots .* K = 64/);
    expect(JSON.parse(honest!.receipt!)).toMatchObject({ mock: true, k: 16, witness: "satisfied" });
    expect(await net.admin.balanceOf(net.owners[0]!)).toBeGreaterThan(ownerBefore);

    // The real prover on the very same claims: the same one proven, the same two refused for good.
    real = circuitsProvePort({ log: (m) => lines.push(m) });
    const proved = await real.prove(await proveArgsOf(honest!));
    expect(proved.calldata.output).toBe(18n);
    for (const c of [negative!, long!]) {
      const err = await real.prove(await proveArgsOf(c)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProofRefusedError);
      expect((err as Error).message).toBe(c.error);
    }
  }, 600_000);
});
