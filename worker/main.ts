/**
 * The worker as its own process: `tsx worker/main.ts --db <file> --rpc <url> --manifest <file>` with the
 * operator key in MFI_PRIVATE_KEY (--rpc defaults to MFI_RPC_URL). Operators run it beside the gateway (same SQLite
 * file, WAL), or as `mfi worker start` (the same serveWorker); the crash tests SIGKILL it. Prints one JSON line per
 * event.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { DeploymentManifest } from "../contracts/index.ts";
import { eventLine, serveWorker } from "./serve.ts";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    rpc: { type: "string" },
    manifest: { type: "string" },
    "epoch-ms": { type: "string", default: "10000" },
    "grace-ms": { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1" },
  },
});
const key = process.env.MFI_PRIVATE_KEY;
const { db: dbFile } = values;
const rpcUrl = values.rpc ?? (process.env.MFI_RPC_URL || undefined);
if (!dbFile || !rpcUrl || !values.manifest || !key) {
  console.error(
    "usage: MFI_PRIVATE_KEY=0x… tsx worker/main.ts --db <sqlite file> --rpc <url> --manifest <deployment json> [--epoch-ms N] [--grace-ms N]",
  );
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(values.manifest, "utf8")) as DeploymentManifest;
const served = await serveWorker({
  dbPath: dbFile,
  rpcUrl,
  privateKey: key,
  manifest,
  epochMs: Number(values["epoch-ms"]),
  graceMs: Number(values["grace-ms"]),
  proverConcurrency: Number(values.concurrency),
  intervalMs: 100,
  onEvent: (e) => console.log(eventLine(e)),
});
const shutdown = async () => {
  await served.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
console.log(JSON.stringify({ type: "ready", pid: process.pid }));
