/**
 * Graceful shutdown over real HTTP: close() while devices are posting. Every request in flight gets its 201 (and is
 * stored) or a clean 503 (and is not); nothing acknowledged is lost, nothing refused is stored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getDefaultBackend } from "../device-sdk/index.ts";
import { startGateway } from "./server.ts";
import { openStore } from "../store/index.ts";
import { makeChain, registrationBody, testKey } from "./testing.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-shutdown-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("graceful shutdown", () => {
  it("drains requests in flight: 201 ⇔ stored, otherwise a clean 503 or a refused connection", async () => {
    const backend = await getDefaultBackend();
    const dbPath = join(dir, "g.sqlite");
    // A file store: commits go through the writer thread, as in production.
    const gw = await startGateway({
      dbPath,
      backend,
      verifyWorkers: 1,
      rateLimit: false,
      maxClockSkewMs: null,
      operatorAuth: false,
    });
    const keys = Array.from({ length: 6 }, (_, i) => testKey(backend, 700 + i));
    const post = (path: string, body: unknown) =>
      fetch(gw.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const k of keys) expect((await post("/v1/devices", registrationBody(backend, k))).status).toBe(201);

    const N = 40;
    const acked = new Map<bigint, number>();
    let inFlightAtClose = 0;
    let closeCalled = false;
    const outcomes: string[] = [];
    const streams = keys.map(async (k) => {
      const { wire } = makeChain(backend, k, N);
      acked.set(k.deviceId, 0);
      for (const w of wire) {
        let status: number;
        try {
          const res = await post(`/v1/devices/${k.deviceId}/readings`, w);
          status = res.status;
          if (status === 503) expect(((await res.json()) as { type: string }).type).toMatch(/shutting-down$/);
          else await res.arrayBuffer();
        } catch {
          outcomes.push("refused");
          return; // the listener is gone: the device would retry later
        }
        outcomes.push(String(status));
        if (status === 201) acked.set(k.deviceId, acked.get(k.deviceId)! + 1);
        else {
          expect(status).toBe(503);
          expect(closeCalled).toBe(true);
          return;
        }
      }
    });
    // Close once every device has a few readings in and requests are being handled.
    while (gw.inFlight() === 0 || [...acked.values()].some((n) => n < 3)) await new Promise((r) => setTimeout(r, 1));
    inFlightAtClose = gw.inFlight();
    closeCalled = true;
    await gw.close();
    await Promise.all(streams);

    expect(inFlightAtClose).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === "201").length).toBeGreaterThan(keys.length * 3);
    expect(outcomes.every((o) => o === "201" || o === "503" || o === "refused")).toBe(true);
    const store = openStore(dbPath);
    for (const k of keys) expect(await store.countReadings(k.deviceId)).toBe(acked.get(k.deviceId));
    await store.close();
  });

  it("over real HTTP (Content-Length limit, fast JSON path, zod fallback) answers like app.request", async () => {
    const backend = await getDefaultBackend();
    const gw = await startGateway({
      dbPath: ":memory:",
      backend,
      verifyWorkers: 0,
      rateLimit: false,
      maxClockSkewMs: null,
      operatorAuth: false,
      maxBodyBytes: 1000,
    });
    try {
      const k = testKey(backend, 800);
      const send = (path: string, body: string, type = "application/json") =>
        fetch(gw.url + path, { method: "POST", headers: { "content-type": type }, body });
      expect((await send("/v1/devices", JSON.stringify(registrationBody(backend, k)))).status).toBe(201);
      const path = `/v1/devices/${k.deviceId}/readings`;
      const [r1, r2] = makeChain(backend, k, 2).wire;
      const problem = async (res: Response) => [
        res.status,
        res.headers.get("content-type"),
        ((await res.json()) as { type: string }).type.split("/").pop(),
      ];
      expect(await problem(await send(path, JSON.stringify({ ...r1, values: Array(200).fill("123456789") })))).toEqual([
        413,
        "application/problem+json",
        "too-large",
      ]);
      expect(await problem(await send(path, "{"))).toEqual([400, "application/problem+json", "bad-request"]);
      expect(await problem(await send(path, JSON.stringify({ ...r1, extra: 1 })))).toEqual([
        400,
        "application/problem+json",
        "bad-request",
      ]);
      expect(await problem(await send(path, JSON.stringify(r2)))).toEqual([
        409,
        "application/problem+json",
        "chain-conflict",
      ]);
      expect((await send(path, JSON.stringify(r1))).status).toBe(201);
      // Exact resend (fast path) and the same reading with seq as a number (fast path) are both idempotent.
      expect((await send(path, JSON.stringify(r1))).status).toBe(200);
      expect((await send(path, JSON.stringify({ ...r1, seq: 1 }))).status).toBe(200);
      // Not JSON by content type: not the fast path; refused as before (415).
      expect((await send(path, JSON.stringify(r2), "text/plain")).status).toBe(415);
      expect((await send(path, JSON.stringify(r2))).status).toBe(201);
      expect(await gw.gateway.store.countReadings(k.deviceId)).toBe(2);
    } finally {
      await gw.close();
    }
  });
});
