/**
 * `mfi gateway start` through the real binary: pino logs on stdout, /healthz, /readyz naming an unreachable chain,
 * /metrics with worker figures, /dashboard behind a token; --no-dashboard / --no-metrics / --log-level; clean stop;
 * /v1/market from the deployment manifest of a real anvil (--rpc --state), and no /v1/market without a chain;
 * `mfi market read --live` against that gateway; gateway/main.ts (environment-configured) shares the start-up (serveGateway): same logs, dashboard, readiness.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createMachinefiClient,
  createMarketClient,
  deployAll,
  mintDevToken,
  startAnvil,
  type Anvil,
} from "../contracts/index.ts";
import { registerMockDevice } from "../contracts/fixture.ts";
import { DeviceClient, generateDeviceKey, getDefaultBackend } from "../device-sdk/index.ts";
import { mfiBin, mfi } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "mfi-gw-"));
const children: ChildProcess[] = [];
let anvil: Anvil | undefined;
afterAll(async () => {
  await anvil?.stop();
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

/** Start `mfi gateway start …`; resolves once `ready(stdout)` holds. */
function start(args: string[], ready: (out: string) => boolean, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [mfiBin, "gateway", "start", ...args], {
    env: { ...process.env, MFI_LOG_LEVEL: "", MFI_DASHBOARD_TOKEN: "", MFI_RPC_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const io = { out: "", err: "" };
  child.stdout!.on("data", (b) => (io.out += b));
  child.stderr!.on("data", (b) => (io.err += b));
  const up = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => ready(io.out) && resolve());
    child.once("exit", (code) => reject(new Error(`mfi gateway start exited ${code}:\n${io.out}\n${io.err}`)));
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, io, up, exited };
}

const lines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, any>);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("mfi gateway start", () => {
  it("serves health, readiness, metrics and a token-protected dashboard, logging JSON lines", async () => {
    const g = start(
      [
        "--db",
        join(tmp, "a.sqlite"),
        "--port",
        "0",
        "--workers",
        "0",
        "--rpc",
        "http://127.0.0.1:9",
        "--log-level",
        "debug",
        "--dashboard-token",
        "tok",
      ],
      (out) => lines(out).some((l) => l.msg === "gateway listening"),
      { MFI_GATEWAY_API_KEYS: "env-key" },
    );
    await g.up;
    const listening = lines(g.io.out).find((l) => l.msg === "gateway listening")!;
    expect(listening).toMatchObject({ dashboard: "token", metrics: "open", chain: "http://127.0.0.1:9" });
    const url = listening.url as string;

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { down: string[]; checks: Record<string, string> };
    expect(body.down).toEqual(["chain"]);
    expect(body.checks.chain).toMatch(/^unreachable/);

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^mfi_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m);
    expect(text).toMatch(/^mfi_worker_claims\{state="paid"\} 0$/m);

    expect((await fetch(`${url}/dashboard`)).status).toBe(401);
    const dash = await fetch(`${url}/dashboard.json`, { headers: { authorization: "Bearer tok" } });
    expect(dash.status).toBe(200);
    expect(await dash.json()).toMatchObject({ readingsTotal: 0 });
    expect((await fetch(`${url}/dashboard?token=env-key`)).status).toBe(200);

    g.child.kill("SIGTERM");
    expect(await g.exited).toBe(0);
    const logged = lines(g.io.out);
    expect(logged.find((l) => l.path === "/dashboard")).toMatchObject({ level: 30, status: 401, msg: "request" });
    expect(logged.find((l) => l.path === "/healthz")).toMatchObject({ level: 20, msg: "probe" });
    expect(logged.every((l) => l.name === "mfi-gateway")).toBe(true);
  }, 180_000);

  it("turns the dashboard and metrics off and logs only warnings with --log-level warn", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const g = start(
      [
        "--db",
        join(tmp, "b.sqlite"),
        "--port",
        String(port),
        "--workers",
        "0",
        "--no-dashboard",
        "--no-metrics",
        "--log-level",
        "warn",
      ],
      () => false,
    );
    g.up.catch(() => {});
    const t0 = Date.now();
    while (
      !(await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() - t0 > 150_000 || g.child.exitCode !== null)
        throw new Error(`gateway did not come up:\n${g.io.out}\n${g.io.err}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/dashboard`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect((await fetch(`${url}/v1/market`)).status).toBe(404); // no chain, no market
    g.child.kill("SIGINT");
    expect(await g.exited).toBe(0);
    expect(lines(g.io.out)).toEqual([]);
  }, 180_000);

  it("serves /v1/market for the DataMarket of the deployment manifest when --rpc names the chain; mfi market read --live follows it", async () => {
    anvil = await startAnvil();
    const state = join(tmp, "state");
    const manifest = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: anvil.accounts[0]!,
      manifestDir: join(state, "deployments"),
      mockRegistration: true,
    });
    const g = start(
      ["--state", state, "--rpc", anvil.rpcUrl, "--port", "0", "--workers", "0", "--no-dashboard", "--no-metrics"],
      (out) => lines(out).some((l) => l.msg === "gateway listening"),
    );
    await g.up;
    const listening = lines(g.io.out).find((l) => l.msg === "gateway listening")!;
    expect(listening.market).toBe(manifest.contracts.DataMarket);
    const url = listening.url as string;
    const res = await fetch(`${url}/v1/market`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as {
      market: string;
      domain: { verifyingContract: string; chainId: string | number };
    };
    expect(info.market.toLowerCase()).toBe(manifest.contracts.DataMarket.toLowerCase());
    expect(info.domain.verifyingContract.toLowerCase()).toBe(manifest.contracts.DataMarket.toLowerCase());
    expect(String(info.domain.chainId)).toBe("31337");
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    // mfi market read --live through the binary: a listed stream, a paying buyer, a reading posted after the feed opened.
    const backend = await getDefaultBackend();
    const owner = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[1]!, manifest });
    const buyer = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[2]!, manifest });
    const key = generateDeviceKey(backend);
    const device = new DeviceClient({ url, key, backend });
    await device.register({
      owner: owner.address,
      chainId: 31337n,
      registry: "0x0000000000000000000000000000000000000000",
    });
    await registerMockDevice(owner, key.deviceId);
    const streamId = await createMarketClient(owner).list({
      deviceIds: [key.deviceId],
      pricePerPeriod: 100n,
      periodSeconds: 3600n,
      token: manifest.contracts.DevToken,
    });
    await mintDevToken(buyer, 1_000n);
    await createMarketClient(buyer).subscribe({ streamId, periods: 1n });
    const live = spawn(
      process.execPath,
      [
        mfiBin,
        "market",
        "read",
        String(streamId),
        "--device",
        String(key.deviceId),
        "--gateway",
        url,
        "--live",
        "--state",
        state,
        "--rpc",
        anvil.rpcUrl,
        "--key",
        anvil.accounts[2]!,
      ],
      {
        env: { ...process.env, MFI_RPC_URL: "", MFI_PRIVATE_KEY: "", MFI_GATEWAY_URL: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(live);
    const io = { out: "", err: "" };
    live.stdout!.on("data", (b) => (io.out += b));
    live.stderr!.on("data", (b) => (io.err += b));
    const liveExit = new Promise<number | null>((r) => live.once("exit", r));
    const until = async (cond: () => boolean, what: string) => {
      const t0 = Date.now();
      while (!cond()) {
        if (Date.now() - t0 > 120_000 || live.exitCode !== null)
          throw new Error(`mfi market read --live: no ${what}:\n${io.out}\n${io.err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(() => /live from seq 1;/.test(io.err), "ready line");
    expect((await device.send({ ts: Date.now(), values: [42] })).status).toBe("accepted");
    await until(() => /^seq 1 .*values 42(,0)*\s+\(signed\)$/m.test(io.out), "reading");
    live.kill("SIGINT");
    expect(await liveExit).toBe(0);
    owner.close();
    buyer.close();

    g.child.kill("SIGTERM");
    expect(await g.exited).toBe(0);
  }, 180_000);

  it("gateway/main.ts (configured by environment) starts the same way: logs, dashboard token, chain readiness", async () => {
    const child = spawn(process.execPath, ["--import", "./cli/register.mjs", "gateway/main.ts"], {
      cwd: join(import.meta.dirname, ".."),
      env: {
        ...process.env,
        MFI_GATEWAY_DB: join(tmp, "main.sqlite"),
        MFI_GATEWAY_VERIFY_WORKERS: "0",
        MFI_LOG_LEVEL: "",
        MFI_RPC_URL: "http://127.0.0.1:9",
        MFI_DASHBOARD_TOKEN: "tok",
        MFI_GATEWAY_MARKET: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    child.stdout!.on("data", (b) => (out += b));
    await new Promise<void>((resolve, reject) => {
      // Both lines: the "listening" event and the "gateway listening" log can arrive in different stdout chunks.
      child.stdout!.on(
        "data",
        () =>
          lines(out).some((l) => l.event === "listening") &&
          lines(out).some((l) => l.msg === "gateway listening") &&
          resolve(),
      );
      child.once("exit", (code) => reject(new Error(`gateway/main.ts exited ${code}:\n${out}`)));
    });
    const url = lines(out).find((l) => l.event === "listening")!.url as string;
    expect(lines(out).find((l) => l.msg === "gateway listening")).toMatchObject({
      url,
      dashboard: "token",
      metrics: "open",
      chain: "http://127.0.0.1:9",
      market: null,
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { down: string[] }).down).toEqual(["chain"]);
    expect((await fetch(`${url}/dashboard`)).status).toBe(401);
    expect((await fetch(`${url}/dashboard.json?token=tok`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(lines(out).find((l) => l.path === "/dashboard")).toMatchObject({ status: 401, msg: "request" });
  }, 180_000);

  it("refuses bad usage with exit 2", async () => {
    const [level, protect, market, marketNoRpc] = await Promise.all([
      mfi(["gateway", "start", "--log-level", "loud"]),
      mfi(["gateway", "start", "--protect-metrics"], { env: { MFI_DASHBOARD_TOKEN: "" } }),
      mfi(["gateway", "start", "--rpc", "http://127.0.0.1:9", "--market", "0x12"]),
      mfi(["gateway", "start", "--market", "0x" + "ab".repeat(20)], { env: { MFI_RPC_URL: "" } }),
    ]);
    expect(market.code).toBe(2);
    expect(market.stderr).toMatch(/--market must be an address/);
    expect(marketNoRpc.code).toBe(2);
    expect(marketNoRpc.stderr).toMatch(/--market needs --rpc/);
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/--log-level must be one of/);
    expect(protect.code).toBe(2);
    expect(protect.stderr).toMatch(/--protect-metrics needs --dashboard-token/);
  }, 180_000);
});
