/**
 * `mfi gateway start`: run the ingest gateway on its own. `mfi gateway apikey <name>`: create an operator API key
 * (printed once; the database keeps only its sha256).
 */
import type { Command } from "commander";
import { join } from "node:path";
import { openStore, startGateway } from "../../gateway/index.ts";

interface DbOpts {
  db?: string;
  state?: string;
}

const dbPath = (o: DbOpts) => o.db ?? (o.state ? join(o.state, "machinefi.sqlite") : join(".mfi", "gateway.sqlite"));

function usage(msg: string): never {
  console.error(msg);
  process.exit(2);
}

const offOr = (name: string, v: string | undefined): number | "off" | undefined => {
  if (v === undefined) return undefined;
  if (v === "off") return "off";
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) usage(`--${name} takes a non-negative number or "off", got ${JSON.stringify(v)}`);
  return n;
};

export function register(program: Command): void {
  const gw = program.command("gateway").description("the ingest gateway: signed device readings in, durably stored");

  gw.command("start")
    .description("serve the gateway API (POST readings, /openapi.json, /reference) until interrupted")
    .option("--db <file>", "SQLite database file (default .mfi/gateway.sqlite)")
    .option("--state <dir>", "devnet state directory (uses <dir>/machinefi.sqlite)")
    .option("--port <n>", "port (0 = any free port)", "8787")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--chain-id <id>", "chain id registrations must name", "31337")
    .option("--registry <address>", "DeviceRegistry address registrations must name", "0x0000000000000000000000000000000000000000")
    .option("--workers <n>", "verifier worker threads (0 = verify inline)")
    .option("--max-skew <ms|off>", "largest |ts - now| accepted, in ms, or off for historical data", "300000")
    .option("--rate <n|off>", "requests per second per device (bursts of 2n), or off", "50")
    .option("--no-operator-auth", "serve operator endpoints without an API key (local development only)")
    .addHelpText("after", "\nExample:\n  $ mfi gateway start --db .mfi/gw.sqlite --port 8787 --max-skew off\n  $ curl localhost:8787/readyz\n\nExit codes: 0 stopped, 2 bad usage, 3 cannot listen or open the database.")
    .action(async (o: DbOpts & { port: string; host: string; chainId: string; registry: string; workers?: string; maxSkew: string; rate: string; operatorAuth: boolean }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, got ${o.port}`);
      if (!/^[0-9]+$/.test(o.chainId)) usage(`--chain-id must be a decimal integer, got ${o.chainId}`);
      if (!/^0x[0-9a-fA-F]{40}$/.test(o.registry)) usage(`--registry must be an address (0x + 40 hex digits), got ${o.registry}`);
      const workers = o.workers === undefined ? undefined : Number(o.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) usage(`--workers must be a whole number, got ${o.workers}`);
      const skew = offOr("max-skew", o.maxSkew);
      const rate = offOr("rate", o.rate);
      let running;
      try {
        running = await startGateway({
          dbPath: dbPath(o),
          port,
          hostname: o.host,
          chainId: BigInt(o.chainId),
          registry: o.registry,
          verifyWorkers: workers,
          maxClockSkewMs: skew === "off" ? null : skew,
          rateLimit: rate === "off" ? false : rate === undefined ? undefined : { perSecond: rate, burst: 2 * rate },
          operatorAuth: o.operatorAuth,
          onInternalError: (e) => console.error("internal error:", e),
        });
      } catch (err) {
        console.error(`cannot start the gateway: ${(err as Error).message}`);
        process.exit(3);
      }
      console.log(`gateway listening on ${running.url} (EdDSA backend ${running.gateway.backend.name}, database ${dbPath(o)})`);
      console.log(`  API reference: ${running.url}/reference   OpenAPI: ${running.url}/openapi.json`);
      const stop = async () => {
        await running.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });

  gw.command("apikey")
    .description("create an operator API key (shown once) for the operator endpoints")
    .argument("<name>", "a unique name for the key, e.g. the person or service using it")
    .option("--db <file>", "SQLite database file (default .mfi/gateway.sqlite)")
    .option("--state <dir>", "devnet state directory (uses <dir>/machinefi.sqlite)")
    .addHelpText("after", "\nExample:\n  $ mfi gateway apikey ops --db .mfi/gw.sqlite\n  $ curl -H \"Authorization: Bearer $KEY\" localhost:8787/v1/devices")
    .action(async (name: string, o: DbOpts) => {
      const store = openStore(dbPath(o));
      try {
        console.log(await store.createApiKey(name));
      } catch (err) {
        console.error(/UNIQUE/.test((err as Error).message) ? `a key named ${JSON.stringify(name)} exists already; pick another name` : (err as Error).message);
        process.exitCode = 2;
      } finally {
        await store.close();
      }
    });
}
