/**
 * Data-market routes: a buyer reads a subscribed stream (history by seq/time range, or a live SSE feed) by sending an
 * EIP-712 access request signed with the subscribing address's key. No API keys, no shared secrets: authorisation
 * is the signature plus the buyer's subscription on DataMarket (gateway/market/access.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { ACCESS_REQUEST_TYPES, accessDomain } from "../../device-sdk/index.ts";
import type { GatewayContext } from "../context.ts";
import { GatewayError, tooLarge } from "../errors.ts";
import { authorise, type MarketDeps } from "../market/access.ts";
import { servedRange } from "../market/history.ts";
import { runLiveFeed, type LiveOptions } from "../market/live.ts";
import { problemResponses, PublicKeySchema, StoredReadingSchema } from "../schemas.ts";
import { storedReadingJson } from "./readings.ts";
import { validationHook } from "./problem.ts";

const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "a non-negative decimal integer string");
const u64 = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, "a non-negative decimal integer string (uint64)");

export const AccessRequestSchema = z
  .object({
    streamId: uint,
    buyer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an EVM address"),
    deviceId: uint,
    live: z.boolean(),
    fromSeq: u64.openapi({ description: "first seq (0: from the start; live: from the current head on)" }),
    toSeq: u64.openapi({ description: "last seq, inclusive (0: no bound)" }),
    fromTs: u64.openapi({ description: "first reading ts, Unix ms" }),
    toTs: u64.openapi({ description: "last reading ts, inclusive (0: no bound)" }),
    nonce: uint.openapi({ description: "random, single use" }),
    expiry: u64.openapi({ description: "Unix seconds (gateway clock); at most maxTtlSeconds ahead" }),
    audience: z.string().min(1).max(255).openapi({
      description:
        "the gateway the request is for: the host (name[:port]) of the URL it is sent to, or an audience the gateway is configured with (MFI_GATEWAY_AUDIENCE)",
      example: "gateway.example.com",
    }),
  })
  .strict()
  .openapi("AccessRequest", {
    description:
      "EIP-712 typed data `AccessRequest`, domain { name: 'machinefi DataMarket', version: '2', chainId, verifyingContract: DataMarket }",
  });

export const SignedAccessRequestSchema = z
  .object({
    request: AccessRequestSchema,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte ECDSA signature, 0x-hex"),
  })
  .strict()
  .openapi("SignedAccessRequest");

const StreamIdParam = z.object({
  streamId: uint.openapi({ param: { name: "streamId", in: "path" }, description: "DataMarket stream id" }),
});

const HistorySchema = z
  .object({
    streamId: uint,
    deviceId: uint,
    publicKey: PublicKeySchema.openapi({
      description: "the device key; Poseidon(x, y) must equal deviceId (verifyReading checks)",
    }),
    readings: z
      .array(StoredReadingSchema)
      .openapi({ description: "in-range readings, then the tail up to the next signed reading" }),
    inRange: z.number().int().openapi({ description: "how many leading readings lie in the requested range" }),
    next: uint.nullable().openapi({ description: "fromSeq to continue from when the range was cut at the page limit" }),
    expiresAt: uint.openapi({ description: "subscription end, unix seconds (chain time)" }),
  })
  .openapi("ServedHistory");

const refusals = problemResponses(400, 401, 402, 403, 404, 409, 413, 422, 503);

const infoRoute = createRoute({
  method: "get",
  path: "/market",
  summary: "What a buyer signs: the EIP-712 domain and types of an access request",
  responses: {
    200: {
      description: "domain and types",
      content: {
        "application/json": {
          schema: z.object({
            chainId: uint,
            market: z.string(),
            maxTtlSeconds: z.number().int(),
            domain: z.object({ name: z.string(), version: z.string(), chainId: uint, verifyingContract: z.string() }),
            types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
            audiences: z.array(z.string()).openapi({
              description:
                "what an access request's audience may be here: the host this was asked at, then configured ones",
            }),
          }),
        },
      },
    },
  },
});

/** Both stream routes take the stream id in the path and the buyer's signed access request as the body. */
const signedAccessRequest = {
  params: StreamIdParam,
  body: { content: { "application/json": { schema: SignedAccessRequestSchema } }, required: true },
};

const historyRoute = createRoute({
  method: "post",
  path: "/market/streams/{streamId}/history",
  summary: "Read a subscribed device's readings by seq/time range (signed access request)",
  description:
    "Served only to the buyer whose EIP-712 signature the request carries, while their subscription is active on chain time. A replayed nonce is 409 nonce-replayed.",
  request: signedAccessRequest,
  responses: {
    200: {
      description: "the readings, each with its hash and signature data",
      content: { "application/json": { schema: HistorySchema } },
    },
    ...refusals,
  },
});

const liveRoute = createRoute({
  method: "post",
  path: "/market/streams/{streamId}/live",
  summary: "Live feed of a subscribed device (Server-Sent Events)",
  description:
    "Events: `ready` (device key, fromSeq, expiresAt), `readings` (consecutive readings ending in a signed one), `end` (reason: expired, or chain-unavailable after three failed chain reads in a row). Ends when the subscription expires.",
  request: signedAccessRequest,
  responses: {
    200: { description: "text/event-stream", content: { "text/event-stream": { schema: z.string() } } },
    ...refusals,
  },
});

export interface MarketRouteOptions extends MarketDeps {
  live: LiveOptions;
  /** Readings per history response (default 1000). */
  pageLimit: number;
  /** Live feeds one buyer may hold open at once (default 4): each polls the store and the chain. */
  maxFeedsPerBuyer?: number;
}

export function marketRoutes(ctx: GatewayContext, m: MarketRouteOptions) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use(
    "/market/streams/*",
    bodyLimit({
      maxSize: 16 * 1024,
      onError: () => {
        throw tooLarge("an access request is at most 16 KiB");
      },
    }),
  );

  async function deviceKey(deviceId: bigint) {
    const d = await ctx.store.getDevice(deviceId);
    if (!d)
      throw new GatewayError(404, "unknown-device", `device ${deviceId} has not registered at this gateway`, {
        details: "it has no readings here yet; ask the stream owner",
      });
    return d.publicKey;
  }

  app.openapi(infoRoute, (c) =>
    c.json(
      {
        chainId: m.chainId.toString(),
        market: m.market,
        maxTtlSeconds: m.maxTtlSeconds,
        domain: { ...accessDomain(m.chainId, m.market), chainId: m.chainId.toString() },
        types: ACCESS_REQUEST_TYPES as unknown as Record<string, { name: string; type: string }[]>,
        audiences: [new URL(c.req.url).host, ...m.audiences],
      },
      200,
    ),
  );

  app.openapi(historyRoute, async (c) => {
    const body = c.req.valid("json");
    let publicKey!: Awaited<ReturnType<typeof deviceKey>>;
    const auth = await authorise(m, {
      streamId: BigInt(c.req.valid("param").streamId),
      host: new URL(c.req.url).host,
      live: false,
      request: body.request,
      signature: body.signature,
      beforeConsume: async (r) => void (publicKey = await deviceKey(r.deviceId)),
    });
    const r = auth.request;
    const served = await servedRange(ctx.store, {
      deviceId: r.deviceId,
      fromSeq: r.fromSeq,
      toSeq: r.toSeq,
      fromTs: r.fromTs,
      toTs: r.toTs,
      limit: m.pageLimit,
    });
    return c.json(
      {
        streamId: r.streamId.toString(),
        deviceId: r.deviceId.toString(),
        publicKey: { x: publicKey.x.toString(), y: publicKey.y.toString() },
        readings: served.readings.map(storedReadingJson),
        inRange: served.inRange,
        next: served.next === undefined ? null : served.next.toString(),
        expiresAt: auth.expiresAt.toString(),
      },
      200,
    );
  });

  const feeds = new Map<string, number>();
  const maxFeeds = m.maxFeedsPerBuyer ?? 4;
  app.openapi(liveRoute, async (c) => {
    const body = c.req.valid("json");
    let publicKey!: Awaited<ReturnType<typeof deviceKey>>;
    const beforeConsume = async (r: { buyer: string; deviceId: bigint }) => {
      // Checked before the nonce is spent, so the buyer can send the same request once a feed closes.
      if ((feeds.get(r.buyer) ?? 0) >= maxFeeds)
        throw new GatewayError(429, "too-many-feeds", `${r.buyer} already has ${maxFeeds} live feeds open`, {
          details: "close one first; one feed per device is enough",
          headers: { "retry-after": "5" },
        });
      publicKey = await deviceKey(r.deviceId);
    };
    const auth = await authorise(m, {
      streamId: BigInt(c.req.valid("param").streamId),
      host: new URL(c.req.url).host,
      live: true,
      request: body.request,
      signature: body.signature,
      beforeConsume,
    });
    const buyer = auth.request.buyer;
    feeds.set(buyer, (feeds.get(buyer) ?? 0) + 1);
    const release = () => {
      const n = (feeds.get(buyer) ?? 1) - 1;
      if (n > 0) feeds.set(buyer, n);
      else feeds.delete(buyer);
    };
    return streamSSE(c, (stream) =>
      runLiveFeed(stream, { store: ctx.store, deps: m, auth, publicKey, live: m.live }).finally(release),
    ) as never;
  });
  return app;
}
