/** Device routes: register (device-signed), get one (public: keys and chain head are public), list (operator). */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { deviceIdOf, genesisHash, registrationMessage, SNARK_FIELD, type Signature } from "../../device-sdk/index.ts";
import { failureBudget, requestBudget } from "../client-budget.ts";
import type { GatewayContext } from "../context.ts";
import { notFound, tooLarge, unauthorized, unprocessable, GatewayError } from "../errors.ts";
import { DeviceIdParam, DeviceSchema, DevicesQuery, problemResponses, RegistrationSchema } from "../schemas.ts";
import type { DeviceRecord } from "../../store/index.ts";
import { validationHook } from "./problem.ts";

const sigJson = (s: Signature) => ({ R8x: s.R8x.toString(), R8y: s.R8y.toString(), S: s.S.toString() });
async function deviceJson(ctx: GatewayContext, d: DeviceRecord) {
  const head = await ctx.store.lastReading(d.deviceId);
  return {
    deviceId: d.deviceId.toString(),
    publicKey: { x: d.publicKey.x.toString(), y: d.publicKey.y.toString() },
    owner: d.owner,
    chainId: d.chainId.toString(),
    registry: d.registry,
    signature: sigJson(d.signature),
    registeredAt: d.registeredAt,
    head: head
      ? { seq: head.seq.toString(), hash: head.hash.toString() }
      : { seq: "0", hash: genesisHash(d.deviceId).toString() },
  };
}

const registerRoute = createRoute({
  method: "post",
  path: "/devices",
  summary: "Register a device",
  description:
    "The device signs Poseidon(owner, chainId, registry) with its key; registering again with the same owner is a no-op.",
  request: { body: { content: { "application/json": { schema: RegistrationSchema } }, required: true } },
  responses: {
    201: { description: "registered", content: { "application/json": { schema: DeviceSchema } } },
    200: { description: "already registered to this owner", content: { "application/json": { schema: DeviceSchema } } },
    ...problemResponses(400, 401, 409, 413, 422),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/devices/{deviceId}",
  summary: "Get a device and its chain head",
  request: { params: DeviceIdParam },
  responses: {
    200: { description: "the device", content: { "application/json": { schema: DeviceSchema } } },
    ...problemResponses(400, 404),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/devices",
  summary: "List devices (operator)",
  security: [{ apiKey: [] }],
  request: { query: DevicesQuery },
  responses: {
    200: {
      description: "devices in registration order",
      content: { "application/json": { schema: DeviceSchema.array() } },
    },
    ...problemResponses(400, 401),
  },
});

export function deviceRoutes(ctx: GatewayContext) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  // A registration costs a signature check and an fsync: limited per address, and its failures count like ingest's.
  const failures = failureBudget(ctx.failures);
  const registrations = requestBudget(ctx.registrations, "registrations");
  app.use("/devices", async (c, next) => (c.req.method === "POST" ? failures(c, next) : next()));
  app.use("/devices", async (c, next) => (c.req.method === "POST" ? registrations(c, next) : next()));
  app.use(
    "/devices",
    bodyLimit({
      maxSize: ctx.maxBodyBytes,
      onError: () => {
        throw tooLarge(`the body is over ${ctx.maxBodyBytes} bytes`);
      },
    }),
  );

  app.openapi(registerRoute, async (c) => {
    const b = c.req.valid("json");
    const publicKey = { x: BigInt(b.publicKey.x), y: BigInt(b.publicKey.y) };
    const signature = { R8x: BigInt(b.signature.R8x), R8y: BigInt(b.signature.R8y), S: BigInt(b.signature.S) };
    for (const v of [publicKey.x, publicKey.y, signature.R8x, signature.R8y, signature.S])
      if (v >= SNARK_FIELD) throw unprocessable("a key or signature component is not a field element");
    const chainId = BigInt(b.chainId);
    if (chainId !== ctx.chainId || b.registry.toLowerCase() !== ctx.registry)
      throw unprocessable(
        "the registration names another chain or registry",
        `this gateway registers for chainId ${ctx.chainId}, registry ${ctx.registry}`,
      );
    const msg = registrationMessage(BigInt(b.owner), chainId, BigInt(b.registry));
    const [ok] = await ctx.verifier.verifyBatch([{ msg, sig: signature, publicKey }]);
    if (!ok)
      throw unauthorized(
        "the registration signature is not by this public key",
        "sign registrationMessage(owner, chainId, registry) with the device key",
      );
    const deviceId = deviceIdOf(publicKey);
    const res = await ctx.directory.register({
      deviceId,
      publicKey,
      owner: b.owner.toLowerCase(),
      chainId,
      registry: b.registry.toLowerCase(),
      signature,
      registeredAt: ctx.now(),
    });
    if (!res.created && res.device.owner !== b.owner.toLowerCase())
      throw new GatewayError(409, "already-registered", `device ${deviceId} is registered to another owner`, {
        details: `owner ${res.device.owner}; transfer ownership on chain instead`,
      });
    return c.json(await deviceJson(ctx, res.device), res.created ? 201 : 200);
  });

  app.openapi(getRoute, async (c) => {
    const id = BigInt(c.req.valid("param").deviceId);
    const d = await ctx.directory.get(id);
    if (!d) throw notFound(`device ${id} is not registered`);
    return c.json(await deviceJson(ctx, d), 200);
  });

  // Every method but POST (registration) lists devices: HEAD too (hono answers it through the GET handler).
  app.use("/devices", async (c, next) => (c.req.method !== "POST" ? ctx.operator(c, next) : next()));
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const list = await ctx.directory.list({
      after: q.after === undefined ? undefined : BigInt(q.after),
      limit: q.limit,
    });
    return c.json(await Promise.all(list.map((d) => deviceJson(ctx, d))), 200);
  });
  return app;
}
