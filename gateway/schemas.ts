/**
 * Request and response schemas: they validate (a failure is a 400 problem) and they generate /openapi.json.
 * Shapes only; ranges (field, i64, ts skew) are checked by ingest and answered with 422.
 */
import { z } from "@hono/zod-openapi";
import { VALUE_SLOTS, type IngestAck } from "../device-sdk/index.ts";
import {
  ACK_EXAMPLE,
  BATCH_ACK_EXAMPLE,
  BATCH_EXAMPLE,
  PROBLEM_EXAMPLES,
  READING_EXAMPLE,
  REGISTRATION_EXAMPLE,
} from "./openapi-examples.ts";

const digits = z.string().regex(/^(0|[1-9][0-9]{0,99})$/, "a non-negative decimal integer string");
const intString = z.string().regex(/^-?(0|[1-9][0-9]{0,99})$/, "a decimal integer string");
/** seq, ts and values may also be JSON numbers when they are safe integers (handy with curl). */
const uintLike = z.union([digits, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]);
const intLike = z.union([intString, z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)]);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an EVM address: 0x and 40 hex digits");

export const FieldString = digits.openapi({
  example: "1234567890123456789",
  description: "field element as a decimal string",
});

export const SignatureSchema = z
  .object({ R8x: digits, R8y: digits, S: digits })
  .strict()
  .openapi("Signature", { description: "EdDSA-Poseidon signature (BabyJubJub), decimal strings" });

export const PublicKeySchema = z.object({ x: digits, y: digits }).strict().openapi("PublicKey");

export const ReadingSchema = z
  .object({
    deviceId: digits.optional().openapi({ description: "must equal the path's deviceId when present" }),
    seq: uintLike.openapi({ description: "1 for the first reading, then +1" }),
    ts: uintLike.openapi({ description: "Unix milliseconds" }),
    values: z
      .array(intLike)
      .max(VALUE_SLOTS)
      .openapi({ description: `up to ${VALUE_SLOTS} signed i64 values (fixed-point); missing slots are 0` }),
    prev: digits.openapi({ description: "hash of the previous reading, or Poseidon(deviceId) for seq 1" }),
    signature: SignatureSchema.nullable()
      .optional()
      .openapi({ description: "signature over this reading's hash; may be omitted in the middle of a batch" }),
  })
  .strict()
  .openapi("Reading", { example: READING_EXAMPLE });

export const BatchSchema = z
  .object({ readings: z.array(ReadingSchema).min(1) })
  .strict()
  .openapi("ReadingBatch", { example: BATCH_EXAMPLE });

export const IngestAckSchema = z
  .object({ deviceId: digits, seq: digits, hash: digits, receivedAt: z.number().int() })
  .openapi("IngestAck", { description: "the same ack is returned again for an exact resend", example: ACK_EXAMPLE });

export const BatchAckSchema = z
  .object({
    acks: z.array(IngestAckSchema),
    receipts: z.array(IngestAckSchema).openapi({
      deprecated: true,
      description: "the same acks under the field's name before the rename, read by device SDKs from before it",
    }),
  })
  .openapi("BatchIngestAck", { example: BATCH_ACK_EXAMPLE });

/**
 * The batch answer, over HTTP and MQTT alike. `receipts` repeats `acks` because a device SDK from before the rename
 * reads its acks there and would fail on every accepted batch without it; drop it once no such device is left.
 */
export const batchAckBody = (acks: IngestAck[]) => ({ acks, receipts: acks });

export const RegistrationSchema = z
  .object({
    publicKey: PublicKeySchema,
    owner: address,
    chainId: uintLike,
    registry: address,
    signature: SignatureSchema.openapi({ description: "device signature over Poseidon(owner, chainId, registry)" }),
  })
  .strict()
  .openapi("Registration", { example: REGISTRATION_EXAMPLE });

export const DeviceSchema = z
  .object({
    deviceId: digits,
    publicKey: PublicKeySchema,
    owner: address,
    chainId: digits,
    registry: address,
    signature: SignatureSchema,
    registeredAt: z.number().int(),
    head: z
      .object({ seq: digits, hash: digits })
      .openapi({ description: "last accepted reading (seq 0 and the genesis hash before any)" }),
  })
  .openapi("Device");

export const StoredReadingSchema = z
  .object({
    deviceId: digits,
    seq: digits,
    ts: digits,
    values: z.array(intString),
    prev: digits,
    hash: digits,
    signature: SignatureSchema.nullable(),
    receivedAt: z.number().int(),
  })
  .openapi("StoredReading");

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional().openapi({ description: "the request's path" }),
    index: z.number().int().optional().openapi({ description: "the offending reading's index in a batch" }),
    expectedSeq: z.string().optional(),
    expectedPrev: z.string().optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details (application/problem+json)" });

export const DeviceIdParam = z.object({
  deviceId: digits.openapi({ param: { name: "deviceId", in: "path" }, description: "Poseidon(Ax, Ay), decimal" }),
});

export const ReadingsQuery = z.object({
  fromSeq: digits.optional().openapi({ param: { name: "fromSeq", in: "query" } }),
  toSeq: digits.optional().openapi({ param: { name: "toSeq", in: "query" } }),
  fromTs: digits.optional().openapi({ param: { name: "fromTs", in: "query" } }),
  toTs: digits.optional().openapi({ param: { name: "toTs", in: "query" } }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .openapi({ param: { name: "limit", in: "query" } }),
});

export const DevicesQuery = z.object({
  after: digits
    .optional()
    .openapi({ param: { name: "after", in: "query" }, description: "deviceId to continue after" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .openapi({ param: { name: "limit", in: "query" } }),
});

export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      c,
      {
        description: `problem ${c}: ${Object.keys(PROBLEM_EXAMPLES[c] ?? {}).join(", ") || "see docs/errors.md"}`,
        content: {
          "application/problem+json": {
            schema: ProblemSchema,
            examples: Object.fromEntries(
              Object.entries(PROBLEM_EXAMPLES[c] ?? {}).map(([type, value]) => [type, { value }]),
            ),
          },
        },
      },
    ]),
  );

export type WireReadingIn = z.infer<typeof ReadingSchema>;
