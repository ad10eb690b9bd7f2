/** Reading routes: post one, post a batch (device-authenticated by signature), list a range (operator). */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { IncomingMessage } from "node:http";
import { failureBudget } from "../client-budget.ts";
import type { GatewayContext } from "../context.ts";
import { tooLarge } from "../errors.ts";
import { fastBatch, fastReading, firstBatchReading } from "../fast-json.ts";
import { checkFirstReading, ingest } from "../ingest.ts";
import { INGESTED } from "../metrics.ts";
import {
  BatchAckSchema,
  batchAckBody,
  BatchSchema,
  DeviceIdParam,
  problemResponses,
  ReadingSchema,
  ReadingsQuery,
  IngestAckSchema,
  StoredReadingSchema,
  type WireReadingIn,
} from "../schemas.ts";
import type { IngestAck } from "../../device-sdk/index.ts";
import type { StoredReading } from "../../store/index.ts";
import { validationHook } from "./problem.ts";

/** What hono's json validator accepts as JSON, and the path's deviceId shape (schemas.ts). */
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
const DIGITS = /^(0|[1-9][0-9]{0,99})$/;
/** Batch bodies from this size on are judged by their first reading before the rest is parsed (about 30 readings). */
const PEEK_BYTES = 8192;

const rejections = problemResponses(400, 401, 403, 404, 409, 413, 422, 429, 503);

const postOne = createRoute({
  method: "post",
  path: "/devices/{deviceId}/readings",
  summary: "Post one signed reading",
  description:
    "The reading must extend the device's chain (409 says where it stands). An exact resend returns the original ack with 200.",
  request: {
    params: DeviceIdParam,
    body: { content: { "application/json": { schema: ReadingSchema } }, required: true },
  },
  responses: {
    201: { description: "stored durably", content: { "application/json": { schema: IngestAckSchema } } },
    200: {
      description: "exact resend: the original ack",
      content: { "application/json": { schema: IngestAckSchema } },
    },
    ...rejections,
  },
});

const postBatch = createRoute({
  method: "post",
  path: "/devices/{deviceId}/readings/batch",
  summary: "Post consecutive readings in one transaction",
  description: "At least the last reading is signed; its signature vouches for the chain behind it. All or nothing.",
  request: {
    params: DeviceIdParam,
    body: { content: { "application/json": { schema: BatchSchema } }, required: true },
  },
  responses: {
    201: { description: "stored durably", content: { "application/json": { schema: BatchAckSchema } } },
    200: {
      description: "exact resend: the original acks",
      content: { "application/json": { schema: BatchAckSchema } },
    },
    ...rejections,
  },
});

const list = createRoute({
  method: "get",
  path: "/devices/{deviceId}/readings",
  summary: "List a device's readings by seq and/or time range (operator)",
  security: [{ apiKey: [] }],
  request: { params: DeviceIdParam, query: ReadingsQuery },
  responses: {
    200: {
      description: "ascending seq, with hashes and signatures",
      content: { "application/json": { schema: StoredReadingSchema.array() } },
    },
    ...problemResponses(400, 401, 404),
  },
});

export const storedReadingJson = (r: StoredReading) => ({
  deviceId: r.deviceId.toString(),
  seq: r.seq.toString(),
  ts: r.ts.toString(),
  values: r.values.map(String),
  prev: r.prev.toString(),
  hash: r.hash.toString(),
  signature: r.signature && {
    R8x: r.signature.R8x.toString(),
    R8y: r.signature.R8y.toString(),
    S: r.signature.S.toString(),
  },
  receivedAt: r.receivedAt,
});

export function readingRoutes(ctx: GatewayContext) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const tooBig = () => {
    throw tooLarge(`the body is over ${ctx.maxBodyBytes} bytes`, "send smaller batches");
  };
  const streamed = bodyLimit({ maxSize: ctx.maxBodyBytes, onError: tooBig });
  // hono's bodyLimit touches c.req.raw.body, which makes @hono/node-server build a full undici Request (streams, an
  // AbortSignal) for every post: a third of the CPU of a single-reading post. With a Content-Length from Node's own
  // parser (which enforces it) the check needs no body at all; chunked bodies still go through the counting limiter.
  const limit: MiddlewareHandler = async (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const len = incoming?.headers["content-length"];
    if (incoming && len !== undefined && incoming.headers["transfer-encoding"] === undefined)
      return Number(len) > ctx.maxBodyBytes ? tooBig() : next();
    return streamed(c, next);
  };
  // Failures are charged to the sender's address before anything else runs, so a spent budget costs no parsing.
  const failures = failureBudget(ctx.failures);
  app.use("/devices/:deviceId/readings", failures);
  app.use("/devices/:deviceId/readings/batch", failures);
  // Every method but POST reads stored data: HEAD too (hono answers it through the GET handler).
  app.use("/devices/:deviceId/readings", async (c, next) =>
    c.req.method !== "POST" ? ctx.operator(c, next) : limit(c, next),
  );
  app.use("/devices/:deviceId/readings/batch", limit);
  // A body whose readings are certainly well formed skips zod (fast-json.ts; zod costs 5–20 ms of event loop per 1,000
  // readings); anything else goes on to zod, with the body cached for it. One middleware for the single and batch
  // routes: `pick` finds the readings, `answer` shapes the acks as the route's schema says.
  // A large batch is first judged by its first reading alone (firstBatchReading, checkFirstReading): a forged or
  // replayed 1,000-reading batch gets its 409 (or 404, 429) for one lookup, without parsing its 250 KB.
  const fastPath =
    (
      pick: (body: unknown) => WireReadingIn[] | undefined,
      answer: (acks: IngestAck[]) => unknown,
      peekFirst = false,
    ): MiddlewareHandler =>
    async (c, next) => {
      if (c.req.method !== "POST" || !JSON_TYPE.test(c.req.header("content-type") ?? "")) return next();
      const deviceId = c.req.param("deviceId");
      if (!deviceId || !DIGITS.test(deviceId)) return next();
      const text = await c.req.text();
      if (peekFirst && text.length >= PEEK_BYTES) {
        const first = fastReading(firstBatchReading(text));
        if (first) await checkFirstReading(ctx.ingest, BigInt(deviceId), first);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return next();
      }
      const readings = pick(body);
      if (!readings) return next();
      const { status, acks } = await ingest(ctx.ingest, BigInt(deviceId), readings);
      c.set(INGESTED, acks.length);
      return c.json(answer(acks) as object, status);
    };
  app.use(
    "/devices/:deviceId/readings",
    fastPath(
      (b) => {
        const r = fastReading(b);
        return r && [r];
      },
      (acks) => acks[0]!,
    ),
  );
  app.use("/devices/:deviceId/readings/batch", fastPath(fastBatch, batchAckBody, true));

  app.openapi(postOne, async (c) => {
    const { status, acks } = await ingest(ctx.ingest, BigInt(c.req.valid("param").deviceId), [c.req.valid("json")]);
    c.set(INGESTED, acks.length);
    return c.json(acks[0]!, status);
  });

  app.openapi(postBatch, async (c) => {
    const { status, acks } = await ingest(
      ctx.ingest,
      BigInt(c.req.valid("param").deviceId),
      c.req.valid("json").readings,
    );
    c.set(INGESTED, acks.length);
    return c.json(batchAckBody(acks), status);
  });

  app.openapi(list, async (c) => {
    const deviceId = BigInt(c.req.valid("param").deviceId);
    const q = c.req.valid("query");
    const opt = (s: string | undefined) => (s === undefined ? undefined : BigInt(s));
    const rows = await ctx.store.listReadings({
      deviceId,
      fromSeq: opt(q.fromSeq),
      toSeq: opt(q.toSeq),
      fromTs: opt(q.fromTs),
      toTs: opt(q.toTs),
      limit: q.limit,
    });
    return c.json(rows.map(storedReadingJson), 200);
  });
  return app;
}
