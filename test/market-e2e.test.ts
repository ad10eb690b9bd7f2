/**
 * Data-stream monetisation end to end on real anvil, a real gateway (socket, SQLite file) and real device signatures:
 * a device owner lists a stream on DataMarket; a buyer who has not paid is refused (402/403); after paying in DevToken
 * the buyer gets exactly the readings in range and each verifies; the live feed (SSE) delivers a reading posted after
 * subscribing and ends when the subscription expires on chain time (evm_increaseTime); afterwards history is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInProcess } from "../cli/run-in-process.ts";
import { register as registerMarket } from "../cli/commands/market.ts";
import {
  createMarketClient,
  mintDevToken,
  writeManifest,
  type MachinefiClient,
  type MarketClient,
} from "../contracts/index.ts";
import { registerMockDevice, startDevnet, type Devnet } from "../contracts/fixture.ts";
import {
  DeviceClient,
  generateDeviceKey,
  getDefaultBackend,
  GatewayRejectedError,
  readHistory,
  subscribeLive,
  verifyReading,
  type DeviceKey,
  type EddsaBackend,
  type LiveEvent,
} from "../device-sdk/index.ts";
import { ethersMarketReader, startGateway, type RunningGateway } from "../gateway/index.ts";

const PERIOD = 3_600n;
let net: Devnet;
let dir: string;
let gw: RunningGateway;
let reader: ReturnType<typeof ethersMarketReader>;
let backend: EddsaBackend;
let owner: MachinefiClient, buyerClient: MachinefiClient;
let buyer: Wallet;
let market: MarketClient;
let streamId: bigint;
let d1: { key: DeviceKey; client: DeviceClient }, d2: { key: DeviceKey; client: DeviceClient };
const T0 = 1_700_000_000_000;
/** `mfi market …` in this process (cli/commands/market.test.ts runs the real binary; spawning costs seconds per call). */
const mfi = (args: string[]) => runInProcess([registerMarket], args);

async function refusal(p: Promise<unknown>): Promise<GatewayRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayRejectedError);
  return err as GatewayRejectedError;
}
const target = (deviceId: bigint, signer: Wallet = buyer) => ({ url: gw.url, signer, streamId, deviceId, backend });

beforeAll(async () => {
  net = await startDevnet({ clients: 4 });
  [, owner, buyerClient] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
  buyer = new Wallet(net.anvil.accounts[2]!);
  backend = await getDefaultBackend();
  dir = mkdtempSync(join(tmpdir(), "mfi-market-e2e-"));
  const address = net.manifest.contracts.DataMarket;
  reader = ethersMarketReader({ rpcUrl: net.anvil.rpcUrl, address });
  gw = await startGateway({
    dbPath: join(dir, "gateway.sqlite"),
    backend,
    chainId: BigInt(net.manifest.chainId),
    registry: net.manifest.contracts.DeviceRegistry,
    maxClockSkewMs: null,
    rateLimit: false,
    verifyWorkers: 0,
    market: { reader, address, pollMs: 50, chainPollMs: 200 },
  });
  const device = async () => {
    const key = generateDeviceKey(backend);
    const client = new DeviceClient({ url: gw.url, key, backend, signMode: "last" });
    await client.register({
      owner: owner.address,
      chainId: BigInt(net.manifest.chainId),
      registry: net.manifest.contracts.DeviceRegistry,
    });
    await registerMockDevice(owner, key.deviceId);
    return { key, client };
  };
  [d1, d2] = [await device(), await device()];
  // d1: seq 1..9 in three batches, only each batch's last reading signed; d2 stays outside the stream
  for (let b = 0; b < 3; b++) {
    const r = await d1.client.sendBatch(
      [0, 1, 2].map((i) => ({ ts: T0 + (b * 3 + i) * 1000, values: [b * 3 + i + 1] })),
    );
    expect(r.status).toBe("accepted");
  }
  expect((await d2.client.send({ ts: T0, values: [7] })).status).toBe("accepted");
  market = createMarketClient(owner);
  streamId = await market.list({
    deviceIds: [d1.key.deviceId],
    pricePerPeriod: 100n,
    periodSeconds: PERIOD,
    token: net.manifest.contracts.DevToken,
  });
});

afterAll(async () => {
  await gw?.close();
  reader?.close();
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("data market end to end (anvil + gateway + SQLite)", () => {
  it("refuses a buyer who has not paid (402) and a device outside the stream (403)", async () => {
    const unpaid = await refusal(readHistory(target(d1.key.deviceId)));
    expect(unpaid.status).toBe(402);
    expect(unpaid.problem.type).toBe("https://machinefi.dev/problems/subscription-required");
    const outside = await refusal(readHistory(target(d2.key.deviceId)));
    expect(outside.status).toBe(403);
    expect(outside.problem.type).toBe("https://machinefi.dev/problems/device-not-in-stream");
  });

  it("serves a paying buyer exactly the readings in range, each verifying", async () => {
    await mintDevToken(buyerClient, 1_000n);
    const paid = await createMarketClient(buyerClient).subscribe({ streamId, periods: 1n });
    expect(paid.paid).toBe(100n);
    const h = await readHistory({ ...target(d1.key.deviceId), fromSeq: 2n, toSeq: 5n });
    expect(h.readings.map((r) => r.seq)).toEqual([2n, 3n, 4n, 5n]);
    expect(h.readings.map((r) => r.values[0])).toEqual([2n, 3n, 4n, 5n]);
    expect(h.verified).toBe(5); // seq 5 is unsigned: the gateway adds seq 6, whose signature covers 2..6
    const byTime = await readHistory({
      ...target(d1.key.deviceId),
      fromTs: BigInt(T0 + 6_000),
      toTs: BigInt(T0 + 8_000),
    });
    expect(byTime.readings.map((r) => r.seq)).toEqual([7n, 8n, 9n]);
    // seq 2..3 end in a signed reading: they verify on their own, and a changed value does not
    const [r2, r3] = h.readings as [(typeof h.readings)[number], (typeof h.readings)[number]];
    expect(verifyReading(backend, h.publicKey, [r2, r3]).verified).toBe(2);
    expect(() => verifyReading(backend, h.publicKey, [{ ...r2, values: [99n, 0n, 0n, 0n] }, r3])).toThrow(
      /does not extend/,
    );
  });

  it("mfi market list / read --out / verify", async () => {
    const deployments = join(dir, "deployments");
    writeManifest(net.manifest, deployments);
    const chain = ["--rpc", net.anvil.rpcUrl, "--key", net.anvil.accounts[2]!, "--deployments", deployments];
    const file = join(dir, "range.json");
    const list = await mfi(["market", "list", "--json", ...chain]);
    const read = await mfi([
      "market",
      "read",
      String(streamId),
      "--device",
      d1.key.deviceId.toString(),
      "--gateway",
      gw.url,
      "--from-seq",
      "1",
      "--to-seq",
      "4",
      "--out",
      file,
      "--json",
      ...chain,
    ]);
    expect([list.code, read.code], list.stderr + read.stderr).toEqual([0, 0]);
    const streams = JSON.parse(list.stdout) as { streamId: string; deviceIds: string[]; yourExpiry: string }[];
    expect(streams.find((s) => s.streamId === String(streamId))).toMatchObject({
      deviceIds: [d1.key.deviceId.toString()],
    });
    expect(BigInt(streams.find((s) => s.streamId === String(streamId))!.yourExpiry)).toBeGreaterThan(0n);
    const got = JSON.parse(read.stdout) as { verified: number; readings: { seq: string }[] };
    expect(got.readings.map((r) => r.seq)).toEqual(["1", "2", "3", "4"]);
    expect(got.verified).toBe(6); // 1..3 end signed; 4 needs the tail to 6
    const tampered = join(dir, "tampered.json");
    const saved = JSON.parse(readFileSync(file, "utf8")) as { readings: { values: string[] }[] };
    saved.readings[1]!.values[0] = "99";
    writeFileSync(tampered, JSON.stringify(saved));
    const ok = await mfi(["market", "verify", file]);
    const bad = await mfi(["market", "verify", tampered]);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/ok: 6 reading\(s\)/) });
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/does not extend/) });
  });

  it("another buyer cannot ride on the subscription (401 signed by someone else, 402 on their own)", async () => {
    const other = new Wallet(net.anvil.accounts[3]!);
    const own = await refusal(readHistory(target(d1.key.deviceId, other)));
    expect(own.status).toBe(402);
    const thief = Object.assign(Object.create(other) as Wallet, {
      getAddress: async () => buyer.address,
      signTypedData: other.signTypedData.bind(other),
    });
    const stolen = await refusal(readHistory(target(d1.key.deviceId, thief)));
    expect(stolen.status).toBe(401);
    expect(stolen.problem.type).toBe("https://machinefi.dev/problems/signer-mismatch");
  });

  it("streams a reading posted after subscribing (SSE) and ends the feed when the subscription expires on chain time", async () => {
    const events: LiveEvent[] = [];
    for await (const e of subscribeLive(target(d1.key.deviceId))) {
      events.push(e);
      if (e.type === "ready") expect((await d1.client.send({ ts: T0 + 20_000, values: [42] })).status).toBe("accepted");
      if (e.type === "readings") {
        await net.clients[0]!.provider.send("evm_increaseTime", [Number(PERIOD) + 1]);
        await net.clients[0]!.provider.send("evm_mine", []);
      }
    }
    expect(events.map((e) => e.type)).toEqual(["ready", "readings", "end"]);
    const live = events[1] as Extract<LiveEvent, { type: "readings" }>;
    expect(live.readings.map((r) => [r.seq, r.values[0]])).toEqual([[10n, 42n]]);
    expect(live.verified).toBe(1);
    expect(events[2]).toMatchObject({ type: "end", reason: "expired" });

    const expired = await refusal(readHistory(target(d1.key.deviceId)));
    expect(expired.status).toBe(402);
    expect(expired.problem.type).toBe("https://machinefi.dev/problems/subscription-expired");
    expect(await market.isSubscribed(streamId, buyer.address)).toBe(false);

    // renewing through the CLI (mints DevToken, approves, subscribes) opens the stream again
    const deployments = join(dir, "deployments");
    const renew = await mfi([
      "market",
      "subscribe",
      String(streamId),
      "--periods",
      "2",
      "--mint",
      "500",
      "--json",
      "--rpc",
      net.anvil.rpcUrl,
      "--key",
      net.anvil.accounts[2]!,
      "--deployments",
      deployments,
    ]);
    expect(renew.code, renew.stderr).toBe(0);
    expect(JSON.parse(renew.stdout)).toMatchObject({ paid: "200", buyer: buyer.address });
    const again = await readHistory({ ...target(d1.key.deviceId), fromSeq: 10n });
    expect(again.readings.map((r) => r.values[0])).toEqual([42n]);
  });
});
