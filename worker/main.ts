/**
 * The worker as its own process: `tsx worker/main.ts --db <file> --rpc <url> --manifest <file>` with the
 * operator key in MFI_PRIVATE_KEY. Operators run it beside the gateway (same SQLite file, WAL); the crash tests
 * SIGKILL it. Prints one JSON line per event.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createMachinefiClient, type DeploymentManifest } from "../contracts/index.ts";
import { openStore } from "../store/index.ts";
import { startWorker } from "./start.ts";

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
if (!dbFile || !values.rpc || !values.manifest || !key) {
  console.error(
    "usage: MFI_PRIVATE_KEY=0x… tsx worker/main.ts --db <sqlite file> --rpc <url> --manifest <deployment json> [--epoch-ms N] [--grace-ms N]",
  );
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(values.manifest, "utf8")) as DeploymentManifest;
const store = openStore(dbFile);
const client = createMachinefiClient({ rpcUrl: values.rpc, privateKey: key, manifest });
const worker = startWorker({
  store,
  workerStore: store.worker,
  client,
  epochMs: Number(values["epoch-ms"]),
  graceMs: Number(values["grace-ms"]),
  proverConcurrency: Number(values.concurrency),
  intervalMs: 100,
  onEvent: (e) => console.log(JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? v.toString() : v))),
});
const shutdown = async () => {
  await worker.stop();
  client.close();
  await store.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
console.log(JSON.stringify({ type: "ready", pid: process.pid }));
