/**
 * Crash safety: SIGKILL the gateway process in the middle of a stream of posts, restart it on the same database,
 * and check that every acknowledged reading is there exactly once and that devices can carry on by resending.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { buildJsBackend, type IngestAck, type WireReading } from "../device-sdk/index.ts";
import { openStore } from "../store/index.ts";
import { makeChain, registrationBody, testKey } from "./testing.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-crash-"));
const dbPath = join(dir, "gateway.sqlite");
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "./cli/register.mjs", "gateway/main.ts"], {
    cwd: join(import.meta.dirname, ".."),
    env: {
      ...process.env,
      MFI_GATEWAY_DB: dbPath,
      MFI_GATEWAY_PORT: "0",
      MFI_GATEWAY_VERIFY_WORKERS: "0",
      MFI_GATEWAY_MAX_SKEW_MS: "off",
      MFI_GATEWAY_RATE: "off",
      MFI_EDDSA: "js",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes('"listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return { child, url };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("gateway crash safety", () => {
  it("keeps every acknowledged reading exactly once across a SIGKILL", async () => {
    const backend = await buildJsBackend();
    const DEVICES = 3;
    const BATCHES = 10;
    const keys = Array.from({ length: DEVICES }, (_, i) => testKey(backend, 100 + i));
    // Pre-signed streams: batches of 4, signed at the end (the signing is the slow part, keep it out of the stream).
    const streams = keys.map((k) => {
      const batches: WireReading[][] = [];
      let state;
      for (let b = 0; b < BATCHES; b++) {
        const c = makeChain(backend, k, 4, { state, signMode: "last", ts0: 1_700_000_000_000 + b * 10_000 });
        batches.push(c.wire);
        state = c.state;
      }
      return batches;
    });

    const first = await startChild();
    for (const k of keys)
      expect((await post(`${first.url}/v1/devices`, registrationBody(backend, k))).status).toBe(201);

    const acked: IngestAck[] = [];
    const sentUpTo = keys.map(() => 0);
    let killed = false;
    const killAt = Math.floor((DEVICES * BATCHES) / 3);
    await Promise.all(
      keys.map(async (k, d) => {
        for (let b = 0; b < BATCHES && !killed; b++) {
          sentUpTo[d] = b + 1;
          try {
            const res = await post(`${first.url}/v1/devices/${k.deviceId}/readings/batch`, {
              readings: streams[d]![b],
            });
            if (res.status !== 201) throw new Error(`status ${res.status}: ${await res.text()}`);
            acked.push(...((await res.json()) as { acks: IngestAck[] }).acks);
          } catch (e) {
            if (!killed) throw e;
            return; // the connection died with the process: not acknowledged
          }
          if (acked.length >= killAt * 4 && !killed) {
            killed = true;
            first.child.kill("SIGKILL");
          }
        }
      }),
    );
    expect(killed).toBe(true);
    await new Promise((r) =>
      first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once("exit", r),
    );

    const second = await startChild();
    // Devices resend from their first unacknowledged batch: committed-but-unacked ones come back 200, the rest 201.
    for (const [d, k] of keys.entries()) {
      const ackedSeqs = acked.filter((r) => r.deviceId === k.deviceId.toString()).length;
      for (let b = ackedSeqs / 4; b < BATCHES; b++) {
        const res = await post(`${second.url}/v1/devices/${k.deviceId}/readings/batch`, { readings: streams[d]![b] });
        expect([200, 201], await res.clone().text()).toContain(res.status);
      }
    }
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));

    const store = openStore(dbPath);
    try {
      for (const r of acked) {
        const stored = await store.getReading(BigInt(r.deviceId), BigInt(r.seq));
        expect(stored?.hash.toString()).toBe(r.hash);
        expect(stored?.receivedAt).toBe(r.receivedAt);
      }
      for (const k of keys) {
        const all = await store.listReadings({ deviceId: k.deviceId, limit: 10_000 });
        expect(all.map((r) => Number(r.seq))).toEqual(Array.from({ length: BATCHES * 4 }, (_, i) => i + 1));
      }
      expect(acked.length).toBeGreaterThanOrEqual(killAt * 4);
    } finally {
      await store.close();
    }
  }, 300_000); // two process start-ups on a shared 2-core machine: generous, never a timing assertion
});
