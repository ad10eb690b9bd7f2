/**
 * Gateways as separate processes on one SQLite file and one broker:
 * - two gateways on one shared subscription (mosquitto, MQTT 5): each message goes to one of them, every reading is
 *   stored exactly once; on aedes (no $share) both get every message and the store's chain check keeps it once;
 * - a gateway killed (SIGKILL) between broker delivery and commit, and between commit and its answer: the device
 *   hears nothing, republishes, another gateway answers, and the reading is stored exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  createDeviceClient,
  memoryStorage,
  mqttTransport,
  type EddsaBackend,
} from "../device-sdk/index.ts";
import { createGateway, type Gateway } from "../gateway/index.ts";
import { registrationBody, testKey } from "../gateway/testing.ts";
import { mosquittoSkipReason, startAedes, startMosquitto, type TestBroker } from "../gateway/testing.ts";

const ROOT = join(import.meta.dirname, "..");

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** resolves with the first stdout line matching `re` (already seen ones count) */
  waitFor(re: RegExp): Promise<string>;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "./cli/register.mjs", "test/mqtt-gateway-child.ts", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of waiters.splice(0))
      if (w.re.test(l)) w.resolve(l);
      else waiters.push(w);
  });
  return {
    proc,
    lines,
    waitFor(re) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        proc.once("exit", (code) =>
          reject(new Error(`gateway child exited (${code}) before "${re}": ${stderr.slice(-2000)}`)),
        );
      });
    },
  };
}

async function stop(c: Child | undefined) {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once("exit", r));
  c.proc.kill("SIGKILL");
  await exited;
}

const brokers: { name: string; start: () => Promise<TestBroker>; skip?: string }[] = [
  { name: "aedes (MQTT 3.1.1, no $share)", start: startAedes },
  { name: "mosquitto (MQTT 5, $share)", start: startMosquitto, skip: mosquittoSkipReason },
];

let backend: EddsaBackend;
beforeAll(async () => {
  backend = await buildJsBackend();
});

describe.each(brokers)("gateway processes over $name", (b) => {
  if (b.skip) {
    it.skip(`skipped: ${b.skip}`, () => undefined);
    return;
  }
  let broker: TestBroker;
  let db: string;
  let gw: Gateway; // the test's own view of the same SQLite file (registrations, counts)
  const children: Child[] = [];
  const child = (extra: string[] = []) => {
    const c = startChild([
      "--db",
      db,
      "--url",
      broker.url,
      "--protocol",
      String(broker.protocolVersion),
      "--share",
      broker.shared ? "gateways" : "none",
      ...extra,
    ]);
    children.push(c);
    return c;
  };
  const device = async (n: number) => {
    const key = testKey(backend, n);
    await gw.app.request("/v1/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(registrationBody(backend, key)),
    });
    const transport = mqttTransport({ url: broker.url, protocolVersion: broker.protocolVersion });
    const client = createDeviceClient({
      url: "http://unused.invalid",
      key,
      backend,
      storage: memoryStorage(),
      transport,
      retry: { attempts: 40, timeoutMs: 1500, baseDelayMs: 20, maxDelayMs: 100 },
    });
    return { key, client, transport };
  };

  beforeAll(async () => {
    broker = await b.start();
    db = join(mkdtempSync(join(tmpdir(), "mfi-mqtt-crash-")), "gateway.sqlite");
    gw = await createGateway({
      dbPath: db,
      storeOptions: { headCache: false },
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
    });
  }, 30_000);
  afterEach(async () => {
    for (const c of children.splice(0)) await stop(c);
  });
  afterAll(async () => {
    await gw?.close();
    await broker?.close();
  });

  it("two gateways on one subscription: every reading stored exactly once", async () => {
    const [g1, g2] = [child(), child()];
    await Promise.all([g1.waitFor(/^ready$/), g2.waitFor(/^ready$/)]);
    const devices = await Promise.all([10, 11, 12, 13].map(device));
    const PER = 5;
    try {
      await Promise.all(
        devices.map(async (d) => {
          for (let i = 0; i < PER; i++)
            expect((await d.client.send({ ts: 1_700_000_000_000 + i * 1000, values: [i] })).status).toBe("accepted");
        }),
      );
    } finally {
      for (const d of devices) await d.transport.close();
    }
    for (const d of devices) {
      const rows = await gw.store.listReadings({ deviceId: d.key.deviceId, limit: 100 });
      expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
    }
    const answered = (c: Child) => c.lines.filter((l) => l.startsWith("answered ")).length;
    // a child logs after it published its answer: the last lines may trail the device's acks
    const total = devices.length * PER;
    // Without $share each gateway answers every publish: wait for each to log its own (a republished reading, answered
    // twice by one, could otherwise fill a summed count before the other's last line).
    while (broker.shared ? answered(g1) + answered(g2) < total : Math.min(answered(g1), answered(g2)) < total)
      await new Promise((r) => setTimeout(r, 20));
    // A device republishes when an answer is late (retry.timeoutMs; a loaded CI machine is slow), so a gateway may
    // answer a reading more than once: what must hold is that every reading is answered and stored once (above).
    if (broker.shared) {
      // each publish went to one member of the group, and both members took part
      expect(answered(g1) + answered(g2)).toBeGreaterThanOrEqual(total);
      expect(answered(g1)).toBeGreaterThan(0);
      expect(answered(g2)).toBeGreaterThan(0);
    } else {
      // both get every publish
      expect(answered(g1)).toBeGreaterThanOrEqual(total);
      expect(answered(g2)).toBeGreaterThanOrEqual(total);
    }
  }, 120_000);

  it.each(["before", "after"])(
    "a gateway killed -9 %s commit: the device republishes, the reading is stored once",
    async (when) => {
      const hung = child(["--hang", when]);
      await hung.waitFor(/^ready$/);
      const d = await device(when === "before" ? 20 : 21);
      try {
        const sent = d.client.send({ ts: 1_700_000_000_000, values: [42] });
        await hung.waitFor(when === "before" ? /^delivered$/ : /^committed$/);
        await stop(hung);
        expect((await gw.store.listReadings({ deviceId: d.key.deviceId, limit: 10 })).length).toBe(
          when === "before" ? 0 : 1,
        );
        const healthy = child();
        await healthy.waitFor(/^ready$/);
        const res = await sent;
        expect(res.status).toBe("accepted");
        const rows = await gw.store.listReadings({ deviceId: d.key.deviceId, limit: 10 });
        expect(rows.map((r) => r.seq)).toEqual([1n]);
        // the answer is the stored reading's ack (the original one when the killed gateway had committed it)
        expect(res.status === "accepted" && res.acks[0]).toEqual({
          deviceId: d.key.deviceId.toString(),
          seq: "1",
          hash: rows[0]!.hash.toString(),
          receivedAt: rows[0]!.receivedAt,
        });
        // killed after commit: the republish is a duplicate, answered 200 with the original ack; before: stored fresh (201)
        expect((await healthy.waitFor(/^answered /)).split(" ")[1]).toBe(when === "after" ? "200" : "201");
      } finally {
        await d.transport.close();
      }
    },
    120_000,
  );
});
