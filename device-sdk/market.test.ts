/**
 * The buyer SDK against a gateway that lies: tampered values, readings outside the range, another device's key, an
 * unsigned end, a live feed that skips a link. Each must be caught without trusting the gateway. (Honest gateways:
 * gateway/routes/market.test.ts and test/market-e2e.test.ts.)
 */
import { verifyTypedData, Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACCESS_REQUEST_TYPES,
  accessDomain,
  buildJsBackend,
  decodeAccessRequest,
  encodePublicKey,
  encodeSignature,
  extendChain,
  GatewayRejectedError,
  GatewayUnavailableError,
  initialChainState,
  loadDeviceKey,
  readHistory,
  ReadingVerificationError,
  ServedRangeError,
  subscribeLive,
  type DeviceKey,
  type EddsaBackend,
  type SignedReading,
} from "./index.ts";

const MARKET = "0x5fbdb2315678afcc367f0d3f2e37c57e4b6a1e2f";
const wallet = new Wallet("0x" + "42".repeat(32));
let backend: EddsaBackend;
let key: DeviceKey, otherKey: DeviceKey;
let chain: SignedReading[];

const wire = (r: SignedReading) => ({
  deviceId: r.deviceId.toString(),
  seq: r.seq.toString(),
  ts: r.ts.toString(),
  values: r.values.map(String),
  prev: r.prev.toString(),
  hash: r.hash.toString(),
  signature: r.signature && encodeSignature(r.signature),
  receivedAt: 0,
});
/** A fake gateway answering every history request with `body` (and recording what it was sent). */
function gateway(body: (req: { request: Record<string, string> }) => unknown, status = 200) {
  const seen: { url: string; body: { request: Record<string, string>; signature: string } }[] = [];
  const fetch = (async (url: string, init?: RequestInit) => {
    const b = JSON.parse(String(init!.body));
    seen.push({ url, body: b });
    return new Response(JSON.stringify(body(b)), {
      status,
      headers: { "content-type": status === 200 ? "application/json" : "application/problem+json" },
    });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}
const served =
  (readings: SignedReading[], inRange = readings.length, pk = key.publicKey) =>
  () => ({
    deviceId: key.deviceId.toString(),
    publicKey: encodePublicKey(pk),
    readings: readings.map(wire),
    inRange,
    next: null,
    expiresAt: "99",
  });
const target = (fetch: typeof globalThis.fetch) => ({
  url: "http://gw",
  fetch,
  signer: wallet,
  streamId: 7n,
  deviceId: key.deviceId,
  chainId: 31337n,
  market: MARKET,
  backend,
});

beforeAll(async () => {
  backend = await buildJsBackend();
  key = loadDeviceKey(backend, new Uint8Array(32).fill(7));
  otherKey = loadDeviceKey(backend, new Uint8Array(32).fill(8));
  const inputs = [1, 2, 3, 4].map((v, i) => ({ ts: 1_700_000_000_000 + i * 1000, values: [v] }));
  chain = extendChain({
    backend,
    key,
    state: initialChainState(key.deviceId),
    inputs: inputs.slice(0, 2),
    signMode: "last",
  }).readings;
  chain = chain.concat(
    extendChain({
      backend,
      key,
      state: { seq: 2n, lastHash: chain[1]!.hash },
      inputs: inputs.slice(2),
      signMode: "last",
    }).readings,
  );
});

describe("readHistory", () => {
  it("signs an EIP-712 request that recovers to the buyer, and returns verified in-range readings", async () => {
    const g = gateway(served(chain.slice(1), 2)); // seq 2..3 in range, 4 as the signed tail
    const h = await readHistory({ ...target(g.fetch), fromSeq: 2n, toSeq: 3n });
    expect(h.readings.map((r) => r.seq)).toEqual([2n, 3n]);
    expect(h.served.map((r) => r.seq)).toEqual([2n, 3n, 4n]);
    expect(h.verified).toBe(3);
    const sent = g.seen[0]!;
    expect(sent.url).toBe("http://gw/v1/market/streams/7/history");
    const req = decodeAccessRequest(sent.body.request as never);
    expect(
      verifyTypedData(accessDomain(31337n, MARKET), ACCESS_REQUEST_TYPES as never, req as never, sent.body.signature),
    ).toBe(wallet.address);
    expect(req).toMatchObject({ streamId: 7n, deviceId: key.deviceId, live: false, fromSeq: 2n, toSeq: 3n });
    expect(Number(req.expiry) - Date.now() / 1000).toBeGreaterThan(50);
  });

  it("catches a tampered value, an unsigned end, another device's key and readings outside the range", async () => {
    const tampered = chain.map((r, i) => (i === 0 ? { ...r, values: [9n, 0n, 0n, 0n] } : r));
    await expect(readHistory(target(gateway(served(tampered)).fetch))).rejects.toMatchObject({ reason: "BrokenChain" });
    await expect(readHistory(target(gateway(served(chain.slice(0, 3))).fetch))).rejects.toMatchObject({
      reason: "Unsigned",
    });
    await expect(readHistory(target(gateway(served(chain, 4, otherKey.publicKey)).fetch))).rejects.toBeInstanceOf(
      ReadingVerificationError,
    );
    await expect(readHistory({ ...target(gateway(served(chain)).fetch), fromSeq: 2n })).rejects.toBeInstanceOf(
      ServedRangeError,
    );
    await expect(
      readHistory({ ...target(gateway(served(chain)).fetch), toTs: 1_700_000_001_000n }),
    ).rejects.toBeInstanceOf(ServedRangeError);
  });

  it("turns a problem answer into GatewayRejectedError and a dead gateway into GatewayUnavailableError", async () => {
    const g = gateway(
      () => ({ type: "https://machinefi.dev/problems/subscription-required", title: "no subscription", status: 402 }),
      402,
    );
    const err = await readHistory(target(g.fetch)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayRejectedError);
    expect(err).toMatchObject({
      status: 402,
      problem: { type: "https://machinefi.dev/problems/subscription-required" },
    });
    const dead = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof globalThis.fetch;
    await expect(readHistory(target(dead))).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(readHistory({ ...target(g.fetch), backend: undefined })).rejects.toThrow(/backend/);
  });
});

describe("subscribeLive", () => {
  const sse = (events: [string, unknown][]) =>
    (async () =>
      new Response(new Blob(events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`)).stream(), {
        status: 200,
        headers: { "content-type": "text/event-stream" },
      })) as unknown as typeof globalThis.fetch;

  it("yields verified events and the end", async () => {
    const r: [string, unknown] = [
      "ready",
      { publicKey: encodePublicKey(key.publicKey), fromSeq: "1", expiresAt: "99" },
    ];
    const events = [];
    for await (const e of subscribeLive(
      target(
        sse([
          r,
          ["readings", { readings: chain.slice(0, 2).map(wire) }],
          ["readings", { readings: chain.slice(2).map(wire) }],
          ["end", { reason: "expired", expiresAt: "99" }],
        ]),
      ),
    ))
      events.push(e);
    expect(events.map((e) => e.type)).toEqual(["ready", "readings", "readings", "end"]);
    expect(events.filter((e) => e.type === "readings").map((e) => (e as { verified: number }).verified)).toEqual([
      2, 2,
    ]);
  });

  it("refuses a feed that skips links between events", async () => {
    const r: [string, unknown] = [
      "ready",
      { publicKey: encodePublicKey(key.publicKey), fromSeq: "1", expiresAt: "99" },
    ];
    // seq 4 verifies on its own, but does not continue seq 2: the gateway dropped seq 3
    const gen = subscribeLive(
      target(
        sse([
          r,
          ["readings", { readings: chain.slice(0, 2).map(wire) }],
          ["readings", { readings: chain.slice(3).map(wire) }],
        ]),
      ),
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of gen) seen.push(e.type);
      })(),
    ).rejects.toMatchObject({ reason: "BrokenChain" });
    expect(seen).toEqual(["ready", "readings"]);
  });
});
