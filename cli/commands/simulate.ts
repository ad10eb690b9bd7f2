/** `mfi simulate`: a fleet of simulated devices posting signed readings to a gateway (rate, batch, faulty devices). */
import type { Command } from "commander";
import { getDefaultBackend } from "../../device-sdk/index.ts";
import { createFleet } from "../devnet/fleet.ts";

interface SimFlags {
  url: string;
  devices: string;
  rate: string;
  batch: string;
  faulty: string;
  duration: string;
  chainId: string;
  registry: string;
  owner: string;
  state?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("simulate")
    .description("run a fleet of simulated devices against a gateway: each registers, then posts signed readings (with noise) at a rate")
    .option("--url <url>", "gateway URL", "http://127.0.0.1:8080")
    .option("--devices <n>", "devices in the fleet", "10")
    .option("--rate <r>", "readings per second per device", "1")
    .option("--batch <n>", "sign only the last reading of each batch of n (1 = sign every reading)", "1")
    .option("--faulty <fraction>", "fraction of devices that sometimes send a forged signature (the gateway must refuse them)", "0")
    .option("--duration <s>", "stop after this many seconds (0 = until Ctrl-C)", "30")
    .option("--chain-id <id>", "chain id registrations name (the gateway's)", "31337")
    .option("--registry <address>", "DeviceRegistry address registrations name (the gateway's)", "0x0000000000000000000000000000000000000000")
    .option("--owner <address>", "owner address of every device", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .option("--state <dir>", "keep device keys and chain positions here (a restart continues the chains)")
    .option("--json", "print the final counts as JSON")
    .addHelpText("after", "\nExample:\n  $ mfi simulate --url http://127.0.0.1:8080 --devices 50 --rate 2 --faulty 0.1 --duration 60\n\nExit codes: 0 ran, 1 the gateway refused every reading, 2 bad usage, 3 gateway unreachable.")
    .action(async (f: SimFlags) => {
      const num = (name: string, v: string, min: number, max: number) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < min || n > max) {
          console.error(`--${name} must be a number in [${min}, ${max}], got ${v}`);
          process.exit(2);
        }
        return n;
      };
      const devices = num("devices", f.devices, 1, 10_000);
      const rate = num("rate", f.rate, 0.001, 1000);
      const batch = num("batch", f.batch, 1, 1000);
      const faulty = num("faulty", f.faulty, 0, 1);
      const duration = num("duration", f.duration, 0, 1e9);
      try {
        await fetch(`${f.url}/healthz`);
      } catch {
        console.error(`cannot reach the gateway at ${f.url}: start one with \`mfi devnet\` or \`mfi gateway\`, or pass --url`);
        return void (process.exitCode = 3);
      }
      const errors = new Map<string, number>();
      const fleet = await createFleet({
        url: f.url,
        backend: await getDefaultBackend(),
        devices,
        readingsPerSecond: rate,
        batchSize: batch,
        owners: [f.owner],
        chainId: BigInt(f.chainId),
        registry: f.registry,
        stateDir: f.state,
        faultyFraction: faulty,
        onError: (_d, err) => errors.set(err.message.split("\n")[0]!.slice(0, 80), (errors.get(err.message.split("\n")[0]!.slice(0, 80)) ?? 0) + 1),
      });
      fleet.start();
      const t0 = Date.now();
      const tick = setInterval(() => {
        if (f.json) return;
        const s = fleet.stats();
        process.stderr.write(`\r${((Date.now() - t0) / 1000).toFixed(0)} s  sent ${s.sent}  accepted ${s.accepted}  rejected ${s.rejected}  queued ${s.queued}   `);
      }, 1000);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        if (duration > 0) setTimeout(resolve, duration * 1000);
      });
      clearInterval(tick);
      await fleet.stop();
      const s = fleet.stats();
      const out = { devices, seconds: (Date.now() - t0) / 1000, ...s, acceptedPerSecond: s.accepted / ((Date.now() - t0) / 1000), errors: Object.fromEntries(errors) };
      if (f.json) console.log(JSON.stringify(out, null, 2));
      else {
        console.error("");
        console.log(`${devices} devices, ${out.seconds.toFixed(1)} s: sent ${s.sent}, accepted ${s.accepted} (${out.acceptedPerSecond.toFixed(1)}/s), rejected ${s.rejected}`);
        for (const [m, n] of errors) console.log(`  ${n}× ${m}`);
      }
      if (s.sent > 0 && s.accepted === 0) process.exitCode = 1;
    });
}
