/**
 * Rate limits shared across gateway processes (issue 23, gateway/shared-rate-limit.ts): two `mfi gateway start --db
 * postgres://…` processes on one embedded Postgres, one device flooding both with its chain as fast as they answer.
 * The readings accepted in total stay within the device's one budget (burst + rate × time, plus the stated excess of
 * at most two per other gateway), not twice it. With Postgres down the gateways answer 503, never an unlimited 201.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDefaultBackend } from "../device-sdk/index.ts";
import { makeChain, registrationBody, testKey } from "../gateway/testing.ts";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { postFrom, startPgGateway } from "./pg-gateways.ts";

const children: ChildProcess[] = [];
let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await pg?.stop();
}, 60_000);

const RATE = 2; // --rate 2: 2 readings/s, bursts of 4, per device
const BURST = 2 * RATE;

describe("rate limits shared by two gateway processes on Postgres", () => {
  it("a device flooding both gets one budget in total; Postgres down gives 503, not an open limiter", async () => {
    const db = await pg!.createDatabase();
    const gws = await Promise.all([0, 1].map(() => startPgGateway(db, children, ["--rate", String(RATE)])));
    const backend = await getDefaultBackend();
    const key = testKey(backend, 900);
    expect((await postFrom(`${gws[0]!.url}/v1/devices`, registrationBody(backend, key), "127.0.0.2")).status).toBe(201);
    const chain = makeChain(backend, key, 200, { values: (i) => [i] });
    const path = `/v1/devices/${key.deviceId}/readings`;
    let next = 0;
    const statuses: Record<number, number> = {};
    // Both gateways at once, each as fast as it answers: a reading refused by one is offered to the other.
    const t0 = Date.now();
    const FLOOD_MS = 3_000;
    await Promise.all(
      gws.map(async (g) => {
        while (Date.now() - t0 < FLOOD_MS) {
          const i = next;
          const r = await postFrom(`${g.url}${path}`, chain.wire[i], "127.0.0.3");
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 201 && next === i) next = i + 1;
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const budget = BURST + RATE * seconds;
    const accepted = statuses[201] ?? 0;
    // One gateway alone would already give the whole budget; two per-process limiters would give twice it.
    expect(accepted, JSON.stringify(statuses)).toBeGreaterThanOrEqual(BURST);
    expect(accepted, JSON.stringify(statuses)).toBeLessThanOrEqual(Math.floor(budget) + 2);
    expect(statuses[429]).toBeGreaterThan(0);

    await pg!.stopServer();
    try {
      // Fail closed, never open: a refusal the local copy already knows is a 429 without Postgres (nothing spent,
      // nothing written); the first decision that must write finds Postgres gone, and from then on every decision of
      // that gateway is 503 until a write succeeds. No 201 at any point.
      for (const g of gws) {
        const seen: number[] = [];
        const until = Date.now() + 15_000;
        while (!seen.includes(503) && Date.now() < until) {
          seen.push((await postFrom(`${g.url}${path}`, chain.wire[next], "127.0.0.3")).status);
          if (!seen.includes(503)) await new Promise((r) => setTimeout(r, 100));
        }
        for (let i = 0; i < 5; i++)
          seen.push((await postFrom(`${g.url}${path}`, chain.wire[next], "127.0.0.3")).status);
        expect(
          seen.every((s) => s === 429 || s === 503),
          JSON.stringify(seen),
        ).toBe(true);
        expect(seen.slice(seen.indexOf(503)), JSON.stringify(seen)).toEqual([503, 503, 503, 503, 503, 503]);
      }
    } finally {
      await pg!.startServer();
    }
    // Back without restarting the gateways: the device's next reading is taken once its budget refills.
    let status = 0;
    for (let i = 0; i < 100 && status !== 201; i++) {
      status = (await postFrom(`${gws[i % 2]!.url}${path}`, chain.wire[next], "127.0.0.3")).status;
      if (status !== 201) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(201);
    for (const g of gws) g.child.kill("SIGTERM");
    expect(await Promise.all(gws.map((g) => g.exited))).toEqual([0, 0]);
  }, 180_000);
});
