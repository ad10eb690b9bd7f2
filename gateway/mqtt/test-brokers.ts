/**
 * Brokers for the MQTT end-to-end tests: aedes in-process (always; MQTT 3.1.1) and Debian's mosquitto (MQTT 5 with
 * shared subscriptions) when the binary is installed (.ci/run installs it best effort). Each mosquitto gets its own
 * port and config, so parallel test files do not share a broker.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestBroker {
  name: string;
  url: string;
  protocolVersion: 4 | 5;
  /** false: the broker has no $share, every gateway gets every message */
  shared: boolean;
  /** the broker's own process (mosquitto), for the bench's CPU accounting; undefined when in-process */
  pid?: number;
  close(): Promise<void>;
}

const MOSQUITTO_PATHS = [
  "/usr/sbin/mosquitto",
  "/usr/bin/mosquitto",
  "/usr/local/sbin/mosquitto",
  "/usr/local/bin/mosquitto",
];

/** The mosquitto binary, or undefined: then `mosquittoSkipReason` says why tests skip. */
export const mosquittoBin =
  process.env.MFI_MOSQUITTO === "off" ? undefined : MOSQUITTO_PATHS.find((p) => existsSync(p));
export const mosquittoSkipReason = mosquittoBin
  ? undefined
  : process.env.MFI_MOSQUITTO === "off"
    ? "MFI_MOSQUITTO=off"
    : `mosquitto not found in ${MOSQUITTO_PATHS.join(", ")}: install it with apt-get install -y mosquitto (.ci/run does)`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1", () => (c.end(), r(true)));
      c.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
}

export async function startMosquitto(): Promise<TestBroker> {
  if (!mosquittoBin) throw new Error(mosquittoSkipReason);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mfi-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nlog_dest stderr\nlog_type error\n`,
  );
  const child = spawn(mosquittoBin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  await waitForPort(port, child, () => stderr);
  return {
    name: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    protocolVersion: 5,
    shared: true,
    pid: child.pid,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export async function startAedes(): Promise<TestBroker> {
  const { startEmbeddedBroker } = await import("./broker.ts");
  const b = await startEmbeddedBroker();
  return { name: "aedes", url: b.url, protocolVersion: 4, shared: false, close: () => b.close() };
}
