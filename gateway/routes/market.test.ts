/**
 * Data-market routes on a real gateway and real SQLite, with DataMarket's state behind the chain-reader interface
 * (test/market-e2e.test.ts runs the same against real anvil): every refusal path and its problem type, ranges
 * extended to a signature, the SSE feed, and nonces that stay spent across a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  readHistory,
  requestAccess,
  subscribeLive,
  verifyReading,
  type EddsaBackend,
  type LiveEvent,
} from "../../device-sdk/index.ts";
import { createGateway, type Gateway } from "../index.ts";
import type { MarketChainReader, MarketStream } from "../market/index.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";

const MARKET = "0x5fbdb2315678afcc367f0d3f2e37c57e4b6a1e2f";
const CHAIN_ID = 31337n;
const LISTER = "0x1111111111111111111111111111111111111111";
const chain = {
  time: 1_000n,
  streams: new Map<bigint, MarketStream>(),
  subs: new Map<string, bigint>(),
  owners: new Map<bigint, string>(),
};
const reader: MarketChainReader = {
  async streamOf(id) {
    return chain.streams.get(id);
  },
  async expiresAt(id, buyer) {
    return chain.subs.get(`${id}:${buyer.toLowerCase()}`) ?? 0n;
  },
  async chainTime() {
    return chain.time;
  },
  async deviceOwner(deviceId) {
    return chain.owners.get(deviceId) ?? LISTER;
  },
};
const wallet = () => new Wallet(hexlify(randomBytes(32)));

let backend: EddsaBackend;
let dir: string;
let gw: Gateway;
let buyer: Wallet, other: Wallet;
let A: ReturnType<typeof testKey>, B: ReturnType<typeof testKey>, C: ReturnType<typeof testKey>;

const open = () =>
  createGateway({
    dbPath: join(dir, "gw.sqlite"),
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: false,
    // The in-memory chain below changes between requests: read it every time (cached-reader.test.ts tests the cache).
    market: { reader, address: MARKET, pollMs: 20, chainPollMs: 50, pageLimit: 4, chainCacheMs: 0 },
  });
const target = (o: { signer?: Wallet; streamId?: bigint; deviceId?: bigint } = {}) => ({
  // What send() reaches: hono's in-process requests are addressed to http://localhost.
  url: "http://localhost",
  fetch: ((input: string, init?: RequestInit) => gw.app.request(input, init)) as typeof fetch,
  signer: o.signer ?? buyer,
  streamId: o.streamId ?? 1n,
  deviceId: o.deviceId ?? A.deviceId,
  chainId: CHAIN_ID,
  market: MARKET,
});
async function send(streamId: bigint | string, body: unknown, feed = "history") {
  const res = await gw.app.request(`/v1/market/streams/${streamId}/${feed}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, any> };
}
async function refused(streamId: bigint | string, body: unknown, status: number, type: string, feed = "history") {
  const r = await send(streamId, body, feed);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.type).toBe("application/problem+json");
  expect(r.body.type).toBe(`https://machinefi.dev/problems/${type}`);
  return r.body;
}

beforeAll(async () => {
  backend = await buildJsBackend();
  dir = mkdtempSync(join(tmpdir(), "mfi-market-"));
  gw = await open();
  [buyer, other] = [wallet(), wallet()];
  [A, B, C] = [testKey(backend, 11), testKey(backend, 12), testKey(backend, 13)];
  for (const k of [A, B, C])
    expect(
      (
        await gw.app.request("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(registrationBody(backend, k)),
        })
      ).status,
    ).toBe(201);
  // A: 3 batches of 3, only each batch's last reading signed (seq 3, 6, 9)
  let state;
  for (let b = 0; b < 3; b++) {
    const c = makeChain(backend, A, 3, { state, signMode: "last", ts0: 1_700_000_000_000 + b * 3_000 });
    state = c.state;
    expect(
      (
        await gw.app.request(`/v1/devices/${A.deviceId}/readings/batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ readings: c.wire }),
        })
      ).status,
    ).toBe(201);
  }
  chain.streams.set(1n, {
    owner: "0x1111111111111111111111111111111111111111",
    listed: true,
    deviceIds: [A.deviceId, B.deviceId],
  });
  chain.streams.set(2n, { owner: "0x1111111111111111111111111111111111111111", listed: true, deviceIds: [C.deviceId] });
  chain.subs.set(`1:${buyer.address.toLowerCase()}`, 5_000n);
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("market history", () => {
  it("serves a seq range extended to the next signed reading, and every served reading verifies", async () => {
    const signed = await requestAccess({ ...target(), fromSeq: 2n, toSeq: 4n });
    const r = await send(1n, signed);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.readings.map((x: { seq: string }) => x.seq)).toEqual(["2", "3", "4", "5", "6"]);
    expect(r.body.inRange).toBe(3);
    expect(r.body.expiresAt).toBe("5000");
    const h = await readHistory({ ...target(), backend, fromSeq: 2n, toSeq: 4n });
    expect(h.readings.map((x) => x.seq)).toEqual([2n, 3n, 4n]);
    expect(h.verified).toBe(5);
  });

  it("follows pages and time ranges (SDK)", async () => {
    const all = await readHistory({ ...target(), backend });
    expect(all.readings.map((x) => x.seq)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    const byTime = await readHistory({ ...target(), backend, fromTs: 1_700_000_003_000n, toTs: 1_700_000_004_000n });
    expect(byTime.readings.map((x) => x.seq)).toEqual([4n, 5n]);
  });

  it("refuses a malformed request (400)", async () => {
    const signed = await requestAccess(target());
    await refused(1n, { request: { ...signed.request, nonce: "-1" }, signature: signed.signature }, 400, "bad-request");
    await refused(
      1n,
      { request: { ...signed.request, buyer: "0x12" }, signature: signed.signature },
      400,
      "bad-request",
    );
    await refused(1n, { request: signed.request }, 400, "bad-request");
    await refused(1n, { ...signed, extra: 1 }, 400, "bad-request");
    await refused(
      1n,
      { request: { ...signed.request, fromSeq: "18446744073709551616" }, signature: signed.signature },
      400,
      "malformed-request",
    );
  });

  it("refuses a bad or forged signature, and a signer who is not the buyer (401)", async () => {
    const signed = await requestAccess(target());
    await refused(1n, { ...signed, signature: "0x" + "00".repeat(65) }, 401, "bad-signature");
    // a field changed after signing (another device): recovers to some other address
    await refused(
      1n,
      { ...signed, request: { ...signed.request, deviceId: B.deviceId.toString() } },
      401,
      "signer-mismatch",
    );
    // another buyer trying the subscriber's subscription: signs a request naming the subscriber
    const thief = { getAddress: async () => buyer.address, signTypedData: other.signTypedData.bind(other) };
    const p = await refused(1n, await requestAccess({ ...target(), signer: thief as never }), 401, "signer-mismatch");
    expect(p.detail).toContain(other.address);
    // signed for another chain (domain): does not recover to the buyer here
    await refused(1n, await requestAccess({ ...target(), chainId: 1n }), 401, "signer-mismatch");
    await refused(
      1n,
      await requestAccess({ ...target(), market: "0x000000000000000000000000000000000000dEaD" }),
      401,
      "signer-mismatch",
    );
  });

  it("refuses a request signed for another gateway (403 wrong-audience) without spending its nonce; a configured audience is accepted", async () => {
    const nonce = 0xa0d1e5cen;
    const p = await refused(
      1n,
      await requestAccess({ ...target(), nonce, audience: "other-gateway.example:8787" }),
      403,
      "wrong-audience",
    );
    expect(p.detail).toContain("other-gateway.example:8787");
    // The refusal came before the nonce was spent: the same nonce, signed for this gateway, is served.
    expect((await send(1n, await requestAccess({ ...target(), nonce }))).status).toBe(200);
    // The host is the one the request was sent to, so a request for this gateway under another name is refused too.
    await refused(1n, await requestAccess({ ...target(), url: "http://127.0.0.1:9" }), 403, "wrong-audience");
    // A gateway configured with a public name (behind a proxy) accepts that name as well.
    const proxied = await createGateway({
      dbPath: join(dir, "proxied.sqlite"),
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
      market: { reader, address: MARKET, audiences: ["Data.Example.com"] },
    });
    try {
      const info = (await (await proxied.app.request("/v1/market")).json()) as { audiences: string[] };
      expect(info.audiences).toEqual(["localhost", "data.example.com"]);
      const signed = await requestAccess({ ...target(), audience: "data.example.com" });
      const res = await proxied.app.request("/v1/market/streams/1/history", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signed),
      });
      // Past the audience check: this gateway has no devices, so A is unknown here.
      expect(((await res.json()) as { type: string }).type).toMatch(/unknown-device$/);
    } finally {
      await proxied.close();
    }
  });

  it("refuses an expired or over-long request (422)", async () => {
    await refused(1n, await requestAccess({ ...target(), now: () => Date.now() - 120_000 }), 422, "request-expired");
    await refused(1n, await requestAccess({ ...target(), ttlSeconds: 3_600 }), 422, "request-too-long");
  });

  it("refuses a request for another stream or device, and a history request on the live feed (403)", async () => {
    await refused(2n, await requestAccess(target()), 403, "wrong-stream");
    await refused(1n, await requestAccess({ ...target(), deviceId: C.deviceId }), 403, "device-not-in-stream");
    await refused(1n, await requestAccess(target()), 403, "wrong-feed", "live");
    await refused(3n, await requestAccess({ ...target(), streamId: 3n }), 404, "unknown-stream");
  });

  it("market: serves nothing for a device transferred away from the stream's lister (403 device-transferred)", async () => {
    chain.owners.set(B.deviceId, "0x2222222222222222222222222222222222222222");
    try {
      const body = await refused(
        1n,
        await requestAccess({ ...target(), deviceId: B.deviceId }),
        403,
        "device-transferred",
      );
      expect(body.detail).toMatch(/0x2222/);
      expect((await send(1n, await requestAccess(target()))).status).toBe(200); // A is still the lister's
    } finally {
      chain.owners.delete(B.deviceId);
    }
  });

  it("refuses a buyer without a subscription or with an expired one, on chain time (402)", async () => {
    await refused(1n, await requestAccess(target({ signer: other })), 402, "subscription-required");
    await refused(
      2n,
      await requestAccess({ ...target(), streamId: 2n, deviceId: C.deviceId }),
      402,
      "subscription-required",
    );
    chain.time = 5_000n; // the chain reaches the expiry, whatever the gateway's clock says
    const p = await refused(1n, await requestAccess(target()), 402, "subscription-expired");
    expect(p).toMatchObject({ expiresAt: "5000", chainTime: "5000" });
    chain.time = 1_000n;
  });

  it("refuses a replayed nonce (409), also after a gateway restart", async () => {
    const signed = await requestAccess({ ...target(), toSeq: 3n });
    expect((await send(1n, signed)).status).toBe(200);
    await refused(1n, signed, 409, "nonce-replayed");
    await gw.close();
    gw = await open();
    await refused(1n, signed, 409, "nonce-replayed");
    // a refused request does not spend its nonce
    const early = await requestAccess({ ...target({ signer: other }), nonce: 42n });
    await refused(1n, early, 402, "subscription-required");
    chain.subs.set(`1:${other.address.toLowerCase()}`, 5_000n);
    expect((await send(1n, early)).status).toBe(200);
  });

  it("a 404 for a device not registered here does not spend the nonce", async () => {
    const D = testKey(backend, 14);
    chain.streams.set(4n, { owner: LISTER, listed: true, deviceIds: [D.deviceId] });
    chain.subs.set(`4:${buyer.address.toLowerCase()}`, 5_000n);
    const signed = await requestAccess({ ...target(), streamId: 4n, deviceId: D.deviceId });
    await refused(4n, signed, 404, "unknown-device");
    expect(
      (
        await gw.app.request("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(registrationBody(backend, D)),
        })
      ).status,
    ).toBe(201);
    const r = await send(4n, signed);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.readings).toEqual([]);
  });

  it("describes what to sign at GET /v1/market and in /openapi.json", async () => {
    const info = (await (await gw.app.request("/v1/market")).json()) as Record<string, any>;
    expect(info).toMatchObject({
      chainId: "31337",
      market: getAddress(MARKET),
      domain: { name: "machinefi DataMarket", version: "2" },
      audiences: ["localhost"],
    });
    expect(info.types.AccessRequest).toHaveLength(11);
    expect(info.types.AccessRequest.at(-1)).toEqual({ name: "audience", type: "string" });
    const doc = (await (await gw.app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/market/streams/{streamId}/history", "/v1/market/streams/{streamId}/live"]),
    );
  });
});

describe("market live feed (SSE)", () => {
  it("pushes readings posted after subscribing, each event verifying, and ends when the subscription expires", async () => {
    const events: LiveEvent[] = [];
    const feed = (async () => {
      for await (const e of subscribeLive({ ...target(), backend })) {
        events.push(e);
        if (e.type === "ready") {
          const last = await gw.store.lastReading(A.deviceId);
          const c = makeChain(backend, A, 2, {
            state: { seq: last!.seq, lastHash: last!.hash },
            signMode: "last",
            ts0: 1_700_000_100_000,
          });
          expect(
            (
              await gw.app.request(`/v1/devices/${A.deviceId}/readings/batch`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ readings: c.wire }),
              })
            ).status,
          ).toBe(201);
        }
        if (e.type === "readings") chain.time = 6_000n;
      }
    })();
    await feed;
    chain.time = 1_000n;
    expect(events.map((e) => e.type)).toEqual(["ready", "readings", "end"]);
    const batch = events[1] as Extract<LiveEvent, { type: "readings" }>;
    expect(batch.readings.map((r) => r.seq)).toEqual([10n, 11n]);
    expect(batch.verified).toBe(2);
    expect(verifyReading(backend, A.publicKey, batch.readings).verified).toBe(2);
    expect(events[2]).toMatchObject({ type: "end", reason: "expired", expiresAt: 5_000n });
  });

  it("caps the live feeds one buyer holds open (429 too-many-feeds, nonce unspent); a closed feed frees its place", async () => {
    const openFeed = async (signed: unknown) => {
      const res = await gw.app.request("/v1/market/streams/1/live", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signed),
      });
      return res;
    };
    const feeds: Response[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await openFeed(await requestAccess({ ...target(), live: true }));
      expect(res.status).toBe(200);
      feeds.push(res);
    }
    const fifth = await requestAccess({ ...target(), live: true });
    const refusedRes = await openFeed(fifth);
    expect(refusedRes.status).toBe(429);
    expect(((await refusedRes.json()) as { type: string }).type).toBe("https://machinefi.dev/problems/too-many-feeds");
    // Another buyer is not affected by this one's feeds.
    chain.subs.set(`1:${other.address.toLowerCase()}`, 5_000n);
    const others = await openFeed(await requestAccess({ ...target({ signer: other }), live: true }));
    expect(others.status).toBe(200);
    for (const f of [...feeds, others]) await f.body!.cancel();
    let again: Response | undefined;
    for (let i = 0; i < 100 && (again = await openFeed(fifth)).status === 429; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(again!.status).toBe(200);
    await again!.body!.cancel();
  });
});
