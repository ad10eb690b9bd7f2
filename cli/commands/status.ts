/** `mfi status`: devices, runs and claims of a devnet's (or gateway's) database. */
import type { Command } from "commander";
import { openStoreAsync } from "../../store/index.ts";
import { dbPathFrom } from "./replay.ts";

export function register(program: Command): void {
  program
    .command("status")
    .description("devices, applet runs, claims and batches (with their state and transaction) from the database")
    .option("--state <dir>", "devnet state directory (default: the devnet started last, running or not)")
    .option("--db <file|url>", "SQLite database file or postgres:// URL")
    .option("--limit <n>", "rows per section", "10")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nBatches (issue 26) are listed when a worker credits applets in batches (mfi worker start --batch-vault).\n\nExample:\n  $ mfi status --state .mfi/devnet\n\nExit codes: 0 ok, 2 bad usage or no database.",
    )
    .action(async (opts: { state?: string; db?: string; limit: string; json?: boolean }) => {
      const path = dbPathFrom(opts);
      const limit = Math.max(1, Number(opts.limit) || 10);
      const store = await openStoreAsync(path);
      try {
        const w = store.worker;
        const devices = await store.listDevices({ limit: 1000 });
        const batches = await store.batches.listBatches(limit);
        const batchOf = new Map<number, number>();
        for (const b of batches) for (const id of await store.batches.claimsOf(b.id)) batchOf.set(id, b.id);
        const status = {
          devices: devices.length,
          readings: await store.countReadings(),
          runs: await w.runCounts(),
          claims: await w.claimCounts(),
          // issue 22: applets the worker stopped running because their module failed to load, with the reason
          quarantined: (await w.applets())
            .filter((a) => a.quarantined !== null)
            .map((a) => ({ imageId: a.imageId, name: a.name, reason: a.quarantined })),
          recentRuns: (await w.listRuns(limit)).map((r) => ({
            id: r.id,
            imageId: r.image_id,
            deviceId: r.device_id,
            epoch: r.epoch,
            readings: r.reading_count,
            fuelUsed: r.fuel_used,
            trap: r.trap,
            // issue 18: why its claim was not kept (not claimable), or how its state was re-synced
            note: r.note ?? null,
          })),
          recentClaims: (await w.listClaims(limit)).map((c) => ({
            id: c.id,
            runId: c.run_id,
            imageId: c.image_id,
            deviceId: c.device_id,
            output: c.output,
            state: c.state,
            attempts: c.attempts,
            txHash: c.tx_hash,
            reward: c.reward,
            error: c.error,
            batchId: batchOf.get(c.id) ?? null,
            // issue 22: the receipt as proved (write it to a file for `mfi verify`), null until proved
            receipt: c.receipt ? (JSON.parse(c.receipt) as unknown) : null,
          })),
          // issue 26: batches of device-epochs (SQLite or Postgres; none without a batching worker)
          recentBatches: batches.map((b) => ({
            id: b.id,
            imageId: b.image_id,
            epoch: b.epoch,
            devices: b.devices,
            n: b.n,
            state: b.state,
            txHash: b.tx_hash,
            gasUsed: b.gas_used,
            proveMs: b.prove_ms,
            error: b.error,
            claims: [...batchOf].filter(([, id]) => id === b.id).map(([claim]) => claim),
          })),
        };
        if (opts.json) return console.log(JSON.stringify(status, null, 2));
        console.log(
          `devices ${status.devices} · readings ${status.readings} · runs ${status.runs.runs} (${status.runs.trapped} trapped)`,
        );
        console.log(
          `claims  ${Object.entries(status.claims)
            .map(([k, v]) => `${k} ${v}`)
            .join(" · ")}\n`,
        );
        for (const a of status.quarantined)
          console.log(`applet ${a.name} (${a.imageId.slice(0, 10)}…) QUARANTINED, not run: ${a.reason}\n`);
        console.log("recent runs");
        for (const r of status.recentRuns)
          console.log(
            `  #${r.id}  applet ${r.imageId.slice(0, 10)}…  device ${r.deviceId.slice(0, 10)}…  ${r.readings} readings  fuel ${r.fuelUsed}${r.trap ? `  TRAP ${r.trap}` : ""}${r.note ? `  (${r.note})` : ""}`,
          );
        console.log("\nrecent claims");
        for (const c of status.recentClaims)
          console.log(
            `  #${c.id}  run ${c.runId}  output ${c.output}  ${c.state === "paid" && BigInt(c.reward ?? 0) === 0n ? "proven, nothing to pay" : c.state}${c.txHash ? `  tx ${c.txHash.slice(0, 14)}…` : ""}${c.error && c.state !== "paid" ? `  (${c.error.split("\n")[0]})` : ""}`,
          );
        if (status.recentBatches.length > 0) {
          console.log("\nrecent batches");
          for (const b of status.recentBatches)
            console.log(
              `  #${b.id}  applet ${b.imageId.slice(0, 10)}…  epoch ${b.epoch}  ${b.devices}/${b.n} devices  ${b.state}${b.txHash ? `  tx ${b.txHash.slice(0, 14)}…` : ""}${b.error && b.state !== "credited" ? `  (${b.error.split("\n")[0]})` : ""}`,
            );
        }
      } finally {
        await store.close();
      }
    });
}
