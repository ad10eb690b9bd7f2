import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, parseGatewayEnv } from "./config.ts";
import { openRoutesOf, serveGateway } from "./server.ts";

const refused = (env: Record<string, string>) => {
  try {
    parseGatewayEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe("gateway configuration from the environment", () => {
  it("refuses values that used to become NaN or Infinity, naming the variable", () => {
    expect(refused({ MFI_GATEWAY_MAX_SKEW_MS: "5m" }).variable).toBe("MFI_GATEWAY_MAX_SKEW_MS");
    expect(refused({ MFI_GATEWAY_RATE: "abc" }).message).toMatch(/^MFI_GATEWAY_RATE="abc" is not valid/);
    expect(refused({ MFI_GATEWAY_RATE: "0" }).variable).toBe("MFI_GATEWAY_RATE");
    expect(refused({ MFI_GATEWAY_PORT: "70000" }).variable).toBe("MFI_GATEWAY_PORT");
    expect(refused({ MFI_GATEWAY_VERIFY_WORKERS: "-1" }).variable).toBe("MFI_GATEWAY_VERIFY_WORKERS");
    expect(refused({ MFI_GATEWAY_CHAIN_ID: "0x7a69" }).variable).toBe("MFI_GATEWAY_CHAIN_ID");
    expect(refused({ MFI_GATEWAY_REGISTRY: "0x12" }).variable).toBe("MFI_GATEWAY_REGISTRY");
    expect(refused({ MFI_LOG_LEVEL: "loud" }).variable).toBe("MFI_LOG_LEVEL");
    expect(refused({ MFI_GATEWAY_DASHBOARD: "maybe" }).variable).toBe("MFI_GATEWAY_DASHBOARD");
    expect(refused({ MFI_RPC_URL: "localhost:8545" }).variable).toBe("MFI_RPC_URL");
    expect(refused({ MFI_DASHBOARD_PROTECT_METRICS: "1" }).variable).toBe("MFI_DASHBOARD_PROTECT_METRICS");
    expect(refused({ MFI_GATEWAY_MARKET: "0x" + "ab".repeat(20) }).variable).toBe("MFI_GATEWAY_MARKET");
  });

  it("parses good values, with unset and empty variables taking the defaults", () => {
    expect(parseGatewayEnv({ MFI_GATEWAY_DB: "" })).toMatchObject({
      dbPath: ".mfi/gateway.sqlite",
      port: 0,
      hostname: "127.0.0.1",
      dashboard: true,
      metrics: true,
      operatorAuth: true,
      rateLimit: undefined,
      maxClockSkewMs: undefined,
    });
    const c = parseGatewayEnv({
      MFI_GATEWAY_MAX_SKEW_MS: "off",
      MFI_GATEWAY_RATE: "2.5",
      MFI_GATEWAY_CHAIN_ID: "31337",
      MFI_GATEWAY_PORT: "8787",
      MFI_GATEWAY_DASHBOARD: "off",
      MFI_GATEWAY_API_KEYS: "a,b",
      MFI_GATEWAY_VERIFY_WORKERS: "0",
    });
    expect(c).toMatchObject({
      maxClockSkewMs: null,
      rateLimit: { perSecond: 2.5, burst: 5 },
      chainId: 31337n,
      port: 8787,
      dashboard: false,
      apiKeys: ["a", "b"],
      verifyWorkers: 0,
    });
    expect(parseGatewayEnv({ MFI_GATEWAY_MAX_SKEW_MS: "60000", MFI_GATEWAY_RATE: "off" })).toMatchObject({
      maxClockSkewMs: 60000,
      rateLimit: false,
    });
  });

  it("gateway/main.ts stops at start-up with exit 2 and the variable's name", () => {
    const r = spawnSync(process.execPath, ["--import", "./cli/register.mjs", "gateway/main.ts"], {
      env: { ...process.env, MFI_GATEWAY_DB: ":memory:", MFI_GATEWAY_MAX_SKEW_MS: "5m" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("MFI_GATEWAY_MAX_SKEW_MS");
  }, 60_000);

  it("refuses to listen beyond loopback with the dashboard, metrics or operator routes open, unless told to", async () => {
    const beyond = { dbPath: ":memory:", hostname: "0.0.0.0", verifyWorkers: 0, port: 0 };
    // Defaults: operator routes and the dashboard need a key, but /metrics is open.
    await expect(serveGateway(beyond)).rejects.toThrow(/with metrics open to anyone/);
    await expect(serveGateway({ ...beyond, metrics: false, operatorAuth: false })).rejects.toThrow(
      /with dashboard, operator routes open to anyone/,
    );
    await expect(serveGateway({ ...beyond, metrics: false, dashboard: false, operatorAuth: false })).rejects.toThrow(
      /operator routes: drop --no-operator-auth/,
    );
    expect(openRoutesOf({ dashboardToken: "t", protectMetrics: true, operatorAuth: false })).toEqual([
      "operator routes",
    ]);
    expect(openRoutesOf({ protectMetrics: true })).toEqual([]);
    // Nothing open: it starts; explicitly allowed: it starts and says what is open.
    for (const cfg of [
      { ...beyond, metrics: false, allowOpenRoutes: false },
      { ...beyond, operatorAuth: false, allowOpenRoutes: true },
    ]) {
      const g = await serveGateway({ ...cfg, logLevel: "silent" });
      expect(g.open).toEqual(cfg.allowOpenRoutes ? ["dashboard", "metrics", "operator routes"] : []);
      await g.close();
    }
    expect(parseGatewayEnv({ MFI_GATEWAY_ALLOW_OPEN_ROUTES: "on" }).allowOpenRoutes).toBe(true);
  });
});
