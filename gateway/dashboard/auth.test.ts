/** Dashboard protection: off by default; when configured, 401 without a token, 200 with the token or an operator key. */
import { afterAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../app.ts";
import { openStore } from "../../store/index.ts";

const open: Gateway[] = [];
afterAll(async () => {
  for (const g of open) await g.close();
});

async function gateway(
  dashboardAuth?: { token?: string; metrics?: boolean },
  apiKeys?: string[],
  operatorAuth?: boolean,
) {
  const store = openStore(":memory:");
  const g = await createGateway({
    store,
    verifyWorkers: 0,
    workerStatus: store.worker,
    dashboardAuth,
    apiKeys,
    operatorAuth,
  });
  open.push({ ...g, close: async () => (await g.close(), await store.close()) });
  return g;
}
const get = (g: Gateway, path: string, headers: Record<string, string> = {}) => g.app.request(path, { headers });

describe("dashboard auth", () => {
  it("is open only where the operator routes are open too (a local devnet); else it takes an operator key like /v1/devices", async () => {
    const g = await gateway(undefined, undefined, false);
    expect((await get(g, "/dashboard")).status).toBe(200);
    expect((await get(g, "/dashboard.json")).status).toBe(200);
    const keyed = await gateway(undefined, ["op-key"]);
    expect((await get(keyed, "/v1/devices")).status).toBe(401);
    expect((await get(keyed, "/dashboard.json")).status).toBe(401);
    expect((await get(keyed, "/dashboard.json", { authorization: "Bearer op-key" })).status).toBe(200);
  });

  it("refuses without the token and serves with it (header, x-api-key or ?token=)", async () => {
    const g = await gateway({ token: "viewer-secret" });
    for (const path of ["/dashboard", "/dashboard.json"]) {
      const no = await get(g, path);
      expect(no.status).toBe(401);
      expect(no.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await no.json()) as { detail?: string; title?: string }).title).toMatch(
        /viewer token or an operator API key/,
      );
      expect((await get(g, path, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await get(g, path, { authorization: "Bearer viewer-secret" })).status).toBe(200);
      expect((await get(g, path, { "x-api-key": "viewer-secret" })).status).toBe(200);
    }
    expect((await get(g, "/dashboard?token=viewer-secret")).status).toBe(200);
    expect((await get(g, "/dashboard?token=viewer-secre")).status).toBe(401);
    // /metrics stays open unless asked; health too.
    expect((await get(g, "/metrics")).status).toBe(200);
    expect((await get(g, "/healthz")).status).toBe(200);
  });

  it("accepts a stored operator API key and an environment key, and can protect /metrics", async () => {
    const g = await gateway({ metrics: true }, ["env-key"]);
    const stored = await g.store.createApiKey("ops");
    expect((await get(g, "/dashboard.json")).status).toBe(401);
    expect((await get(g, "/dashboard.json", { authorization: `Bearer ${stored}` })).status).toBe(200);
    expect((await get(g, "/dashboard.json", { authorization: "Bearer env-key" })).status).toBe(200);
    expect((await get(g, "/metrics")).status).toBe(401);
    const m = await get(g, "/metrics", { authorization: `Bearer ${stored}` });
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^mfi_http_requests_total\{method="GET",route="\/metrics",status="401"\} 1$/m);
  });
});
