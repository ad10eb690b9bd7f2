/**
 * One MQTT readings message → the reply the device gets: the HTTP batch route's rules, schemas, ingest function and
 * problem+json, so a device sees the same answer over either transport. The reply is computed only after ingest
 * returned, i.e. after the append committed (ack after commit); the broker is trusted with nothing but delivery.
 */
import { z } from "@hono/zod-openapi";
import { parseReadingsTopic, type ParsedTopic } from "../../device-sdk/index.ts";
import type { GatewayContext } from "../context.ts";
import { badRequest, tooLarge, type GatewayError } from "../errors.ts";
import { fastReading } from "../fast-json.ts";
import { ingest } from "../ingest.ts";
import { schemaError, toGatewayError } from "../routes/problem.ts";
import { batchAckBody, ReadingSchema, type WireReadingIn } from "../schemas.ts";

export type MqttIngestContext = Pick<GatewayContext, "ingest" | "maxBodyBytes">;

/** What goes back on the response topic: an ack ({acks, receipts}, as the batch route) or a problem. */
export interface MqttReply {
  status: number;
  contentType: "application/json" | "application/problem+json";
  body: Record<string, unknown>;
  /** problem headers over HTTP (retry-after), sent as MQTT 5 user properties */
  headers: Record<string, string>;
  /** readings acknowledged (0 on refusal) */
  ingested: number;
  /** the error, for the caller's failure budget and logs */
  error?: GatewayError;
}

/** The MQTT payload is the batch route's `readings` array itself (no wrapper object). */
const PayloadSchema = z.array(ReadingSchema).min(1);

/** Every element passes the hand-written fast check, else zod decides (and words the 400). */
function readingsOf(body: unknown): WireReadingIn[] {
  if (Array.isArray(body) && body.length > 0) {
    const fast = body.map(fastReading);
    if (fast.every((r) => r !== undefined)) return fast as WireReadingIn[];
  }
  const parsed = PayloadSchema.safeParse(body);
  if (!parsed.success) throw schemaError(parsed);
  return parsed.data;
}

export async function handleReadingsMessage(
  ctx: MqttIngestContext,
  topic: string,
  payload: Uint8Array,
  /** parseReadingsTopic(topic), when the caller has it already */
  parsed?: ParsedTopic,
): Promise<MqttReply> {
  try {
    // Cheap checks first, in the HTTP order: size (bodyLimit), path, JSON, schema; then ingest's own order.
    if (payload.byteLength > ctx.maxBodyBytes)
      throw tooLarge(`the body is over ${ctx.maxBodyBytes} bytes`, "send smaller batches");
    const t = parsed ?? parseReadingsTopic(topic);
    if (!t.ok) throw badRequest(t.reason);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
    } catch {
      // hono's json validator words it the same way (HTTPException 400 → bad-request)
      throw badRequest("Malformed JSON in request body");
    }
    const { status, acks } = await ingest(ctx.ingest, BigInt(t.deviceId), readingsOf(body));
    return { status, contentType: "application/json", body: batchAckBody(acks), headers: {}, ingested: acks.length };
  } catch (e) {
    const err = toGatewayError(e);
    return {
      status: err.status,
      contentType: "application/problem+json",
      body: err.toProblem(topic),
      headers: err.headers,
      ingested: 0,
      error: err,
    };
  }
}
