/**
 * Gateway processes on a Postgres database for the end-to-end tests (test/postgres-*.test.ts): `mfi gateway start
 * --db postgres://…` as a child, and POSTs from a chosen loopback address (each simulated sender has its own).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mfiBin } from "./helpers.ts";

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Start a gateway on `db` (no verifier threads, no clock-skew check; `args` add to or override, e.g. --rate 2). */
export function startPgGateway(
  db: string,
  children: ChildProcess[],
  args: string[] = ["--rate", "off"],
): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [mfiBin, "gateway", "start", "--db", db, "--port", "0", "--workers", "0", "--max-skew", "off", ...args],
    {
      env: { ...process.env, MFI_LOG_LEVEL: "", MFI_DASHBOARD_TOKEN: "", MFI_RPC_URL: "", MFI_GATEWAY_DB: "" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let out = "";
  let err = "";
  child.stderr!.on("data", (b) => (err += b));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (b) => {
      out += b;
      const m = out.match(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"gateway listening"/);
      if (m) resolve({ url: m[1]!, child, exited });
    });
    child.once("exit", (code) => reject(new Error(`gateway exited ${code}:\n${out}\n${err}`)));
  });
}

/** POST JSON from a given loopback address. */
export function postFrom(url: string, body: unknown, localAddress: string): Promise<{ status: number; body: any }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        localAddress,
        agent: false,
        headers: { "content-type": "application/json", "content-length": data.length },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}
