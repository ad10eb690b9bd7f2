/** /readyz against a real anvil: ready while the chain answers, 503 naming the chain once it is stopped or wrong. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type Anvil } from "../../contracts/index.ts";
import { createGateway, type Gateway } from "../app.ts";

let anvil: Anvil | undefined;
const gateways: Gateway[] = [];
beforeAll(async () => {
  anvil = await startAnvil();
}, 60_000);
afterAll(async () => {
  for (const g of gateways) await g.close();
  await anvil?.stop();
});

const gateway = async (o: Parameters<typeof createGateway>[0]) => {
  const g = await createGateway({ dbPath: ":memory:", verifyWorkers: 0, metrics: false, ...o });
  gateways.push(g);
  return g;
};
type Ready = { status: string; checks: Record<string, string>; down?: string[] };

describe("/readyz", () => {
  it("checks only database and verifier when no chain is configured", async () => {
    const g = await gateway({});
    const res = await g.app.request("/readyz");
    expect(res.status).toBe(200);
    expect(((await res.json()) as Ready).checks).toEqual({ database: "ok", verifier: "ok" });
  });

  it("says which chain id is wrong", async () => {
    const g = await gateway({ rpcUrl: anvil!.rpcUrl, chainId: 1n });
    const res = await g.app.request("/readyz");
    expect(res.status).toBe(503);
    const body = (await res.json()) as Ready;
    expect(body.down).toEqual(["chain"]);
    expect(body.checks.chain).toBe(`wrong chain: the RPC serves chain ${anvil!.chainId}, the gateway expects 1`);
  });

  it("is ready while anvil answers and 503 naming the chain once anvil stops", async () => {
    const g = await gateway({ rpcUrl: anvil!.rpcUrl, chainId: anvil!.chainId });
    const up = await g.app.request("/readyz");
    const upBody = (await up.json()) as Ready;
    expect(up.status, JSON.stringify(upBody)).toBe(200);
    expect(upBody).toMatchObject({ status: "ready", checks: { database: "ok", verifier: "ok", chain: "ok" } });

    await anvil!.stop();
    anvil = undefined;
    const down = await g.app.request("/readyz");
    expect(down.status).toBe(503);
    const body = (await down.json()) as Ready;
    expect(body.down).toEqual(["chain"]);
    expect(body.status).toBe("not ready: chain is down");
    expect(body.checks).toMatchObject({ database: "ok", verifier: "ok" });
    expect(body.checks.chain).toMatch(/^unreachable: /);
    // Liveness does not depend on the chain.
    expect((await g.app.request("/healthz")).status).toBe(200);
  });

  it("names the database when it is closed", async () => {
    const g = await gateway({});
    await g.store.close();
    const res = await g.app.request("/readyz");
    expect(res.status).toBe(503);
    expect(((await res.json()) as Ready).down).toEqual(["database"]);
  });
});
