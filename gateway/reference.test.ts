/**
 * /openapi.json and /reference: the examples are real (the signed reading and batch are accepted by a gateway and
 * answered with the documented acks; each problem example fits the problem schema and its status), the document
 * lists /metrics, /dashboard.json and the auth schemes, `values` allows the 4 slots its description says, and the
 * reference page shows every operation in Chromium with the internet blocked.
 */
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../store/index.ts";
import { CHROMIUM, offlineBrowser } from "../test/browser.ts";
import { createGateway, type Gateway } from "./app.ts";
import {
  ACK_EXAMPLE,
  BATCH_ACK_EXAMPLE,
  BATCH_EXAMPLE,
  DEVICE_ID_EXAMPLE,
  PROBLEM_EXAMPLES,
  READING_EXAMPLE,
  REGISTRATION_EXAMPLE,
} from "./openapi-examples.ts";
import { BatchSchema, ProblemSchema, ReadingSchema } from "./schemas.ts";
import { startGateway, type RunningGateway } from "./server.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const closing: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const c of closing) await c.close();
});

async function gateway(): Promise<Gateway> {
  const store = openStore(":memory:");
  const g = await createGateway({ store, workerStatus: store.worker, verifyWorkers: 0, maxClockSkewMs: null });
  closing.push(g, store);
  return g;
}

describe("the OpenAPI document", () => {
  it("has real examples: the gateway accepts the signed reading and batch and answers the documented acks", async () => {
    const g = await gateway();
    const post = (path: string, body: unknown) =>
      g.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post("/v1/devices", REGISTRATION_EXAMPLE)).status).toBe(201);
    const base = `/v1/devices/${DEVICE_ID_EXAMPLE}/readings`;
    const one = await post(base, READING_EXAMPLE);
    expect(one.status).toBe(201);
    const { receivedAt: _r, ...ack } = ACK_EXAMPLE;
    expect(await one.json()).toMatchObject(ack);
    const batch = await post(`${base}/batch`, BATCH_EXAMPLE);
    expect(batch.status).toBe(201);
    const got = (await batch.json()) as Json;
    expect(got.acks.map((a: Json) => [a.seq, a.hash])).toEqual(BATCH_ACK_EXAMPLE.acks.map((a) => [a.seq, a.hash]));
    // A fifth value is refused as the schema says (400), not stored.
    const five = await post(base, { ...READING_EXAMPLE, seq: "4", values: ["1", "2", "3", "4", "5"] });
    expect(five.status).toBe(400);
    expect(((await five.json()) as Json).type).toMatch(/bad-request$/);
  });

  it("gives each problem type an example of the problem schema and its status, on the routes that answer it", async () => {
    const g = await gateway();
    const doc = (await (await g.app.request("/openapi.json")).json()) as Json;
    for (const [status, byType] of Object.entries(PROBLEM_EXAMPLES))
      for (const [type, ex] of Object.entries(byType)) {
        expect(ProblemSchema.safeParse(ex).success, type).toBe(true);
        expect(ex.status).toBe(Number(status));
        expect(ex.type).toBe(`https://machinefi.dev/problems/${type}`);
      }
    const post = doc.paths["/v1/devices/{deviceId}/readings"].post;
    expect(Object.keys(post.responses["409"].content["application/problem+json"].examples)).toContain("chain-conflict");
    expect(Object.keys(post.responses["503"].content["application/problem+json"].examples)).toContain("overloaded");
    const schemas = doc.components.schemas;
    expect(schemas.Reading.example).toEqual(READING_EXAMPLE);
    expect(ReadingSchema.safeParse(schemas.Reading.example).success).toBe(true);
    expect(BatchSchema.safeParse(schemas.ReadingBatch.example).success).toBe(true);
    expect(schemas.IngestAck.example).toEqual(ACK_EXAMPLE);
    // values: at most 4 slots, as its description says.
    expect(schemas.Reading.properties.values.maxItems).toBe(4);
    expect(schemas.Reading.properties.values.description).toMatch(/up to 4/);
    // The operator views and the auth schemes are documented.
    expect(doc.paths["/metrics"].get.summary).toMatch(/Prometheus/);
    expect(doc.paths["/dashboard.json"].get.security).toEqual([{ viewerToken: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.viewerToken).toMatchObject({ type: "apiKey", in: "query", name: "token" });
    expect(doc.paths["/v1/devices"].get.security).toEqual([{ apiKey: [] }]);
  });

  it("serves /reference as one page with every operation and no script", async () => {
    const g = await gateway();
    const doc = (await (await g.app.request("/openapi.json")).json()) as Json;
    const html = await (await g.app.request("/reference")).text();
    expect(html).not.toMatch(/<script|https?:\/\/cdn/i);
    for (const [path, item] of Object.entries(doc.paths as Json))
      for (const method of Object.keys(item))
        expect(html, `${method} ${path}`).toContain(`id="${`${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-")}"`);
  });
});

describe("/reference in a real browser without internet", () => {
  it.skipIf(!existsSync(CHROMIUM))(
    `shows the API's operations with every non-local request blocked${existsSync(CHROMIUM) ? "" : ` (skipped: ${CHROMIUM} missing)`}`,
    async () => {
      const store = openStore(":memory:");
      const running: RunningGateway = await startGateway({ store, workerStatus: store.worker, verifyWorkers: 0 });
      closing.push(running, store);
      const doc = (await (await fetch(`${running.url}/openapi.json`)).json()) as Json;
      const ops = Object.values(doc.paths as Json).reduce((n, item) => n + Object.keys(item).length, 0);
      const { browser, blocked } = await offlineBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(`${running.url}/reference`);
        expect(await page.title()).toBe("machinefi gateway API reference");
        expect(await page.locator("section.op").count()).toBe(ops);
        expect(await page.locator("section.op h3").first().isVisible()).toBe(true);
        await expect(page.locator("#post-v1-devices-deviceId-readings").textContent()).resolves.toMatch(
          /Post one signed reading/,
        );
        // The example reading is on the page, and the page asked for nothing beyond this machine.
        expect(await page.textContent("body")).toContain(READING_EXAMPLE.signature.R8x);
        expect(blocked).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
