/**
 * `mfi simulate`: a fleet of simulated devices posting signed readings to a gateway (rate, batch, seeded noise, faulty
 * devices). Noise is deterministic: the same --seed gives every device the same values on every run.
 */
import type { Command } from "commander";
import { GatewayRejectedError, getDefaultBackend } from "../../device-sdk/index.ts";
import { UnreachableError, UsageError } from "../errors.ts";
import { createFleet } from "../devnet/fleet.ts";

interface SimFlags {
  url: string;
  devices: string;
  rate: string;
  batch: string;
  faulty: string;
  noise: string;
  seed: string;
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
    .description(
      "run a fleet of simulated devices against a gateway: each registers, then posts signed readings (with noise) at a rate",
    )
    .option("--url <url>", "gateway URL", "http://127.0.0.1:8080")
    .option("--devices <n>", "devices in the fleet", "10")
    .option("--rate <r>", "readings per second per device", "1")
    .option("--batch <n>", "sign only the last reading of each batch of n (1 = sign every reading)", "1")
    .option(
      "--noise <amount>",
      "values[0] (energy, Wh) is 100 ± amount, uniform; 15% of readings spike to 300..500",
      "50",
    )
    .option("--seed <n|random>", "seed of the per-device noise generators (same seed, same values every run)", "1")
    .option(
      "--faulty <fraction>",
      "fraction of devices that sometimes send a forged signature (the gateway must refuse them)",
      "0",
    )
    .option("--duration <s>", "stop after this many seconds (0 = until Ctrl-C)", "30")
    .option("--chain-id <id>", "chain id registrations name (the gateway's)", "31337")
    .option(
      "--registry <address>",
      "DeviceRegistry address registrations name (the gateway's)",
      "0x0000000000000000000000000000000000000000",
    )
    .option("--owner <address>", "owner address of every device", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .option("--state <dir>", "keep device keys and chain positions here (a restart continues the chains)")
    .option("--json", "print the final counts as JSON")
    .addHelpText(
      "after",
      `
Examples:
  $ mfi simulate --url http://127.0.0.1:8080 --devices 50 --rate 2 --faulty 0.1 --duration 60
  $ mfi simulate --devices 5 --noise 10 --seed 42 --state .mfi/sim   # values 90..110 Wh (plus spikes), repeatable
  $ mfi simulate --noise 0 --seed random --json                      # flat 100 Wh, a fresh seed

The devices register with the gateway only; register them on L1 (DeviceRegistry) for their claims to be paid.
Exit codes: 0 ran, 1 the gateway refused every reading, 2 bad usage, 3 gateway unreachable.`,
    )
    .action(async (f: SimFlags) => {
      const num = (name: string, v: string, min: number, max: number) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < min || n > max)
          throw new UsageError(`--${name} must be a number in [${min}, ${max}], got ${v}`);
        return n;
      };
      const devices = num("devices", f.devices, 1, 10_000);
      const rate = num("rate", f.rate, 0.001, 1000);
      const batch = num("batch", f.batch, 1, 1000);
      const faulty = num("faulty", f.faulty, 0, 1);
      const noise = num("noise", f.noise, 0, 1e12);
      const seed =
        f.seed === "random"
          ? Math.floor(Math.random() * 2 ** 32)
          : /^[0-9]+$/.test(f.seed) && Number(f.seed) < 2 ** 32
            ? Number(f.seed)
            : undefined;
      if (seed === undefined)
        throw new UsageError(`--seed must be a whole number below 2^32 or "random", got ${f.seed}`);
      const duration = num("duration", f.duration, 0, 1e9);
      try {
        await fetch(`${f.url}/healthz`);
      } catch (cause) {
        throw new UnreachableError(`the gateway at ${f.url}`, {
          hint: "start one with `mfi devnet` or `mfi gateway start`, or pass --url",
          cause,
        });
      }
      const errors = new Map<string, number>();
      let fleet: Awaited<ReturnType<typeof createFleet>>;
      try {
        fleet = await createFleet({
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
          noise,
          seed,
          onError: (_d, err) =>
            errors.set(
              err.message.split("\n")[0]!.slice(0, 80),
              (errors.get(err.message.split("\n")[0]!.slice(0, 80)) ?? 0) + 1,
            ),
        });
      } catch (err) {
        // The registration names a chain and registry; a gateway for other ones refuses it with 422.
        if (err instanceof GatewayRejectedError && err.status === 422)
          throw new UsageError(
            `the gateway at ${f.url} refused the devices' registration: ${err.problem.title ?? ""}`,
            {
              details: err.details,
              metaMessages: ["pass the gateway's --chain-id and --registry (as given to `mfi gateway start`)"],
            },
          );
        throw err;
      }
      fleet.start();
      const t0 = Date.now();
      // A status line redrawn each second on a terminal; a plain line every 10 s otherwise (logs, pipes).
      const tty = !!process.stderr.isTTY;
      let ticks = 0;
      const tick = setInterval(() => {
        ticks++;
        if (f.json || (!tty && ticks % 10 !== 0)) return;
        const s = fleet.stats();
        const line = `${((Date.now() - t0) / 1000).toFixed(0)} s  sent ${s.sent}  accepted ${s.accepted}  rejected ${s.rejected}  queued ${s.queued}`;
        process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
      }, 1000);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        if (duration > 0) setTimeout(resolve, duration * 1000);
      });
      clearInterval(tick);
      await fleet.stop();
      const s = fleet.stats();
      const out = {
        devices,
        seed,
        noise,
        seconds: (Date.now() - t0) / 1000,
        ...s,
        acceptedPerSecond: s.accepted / ((Date.now() - t0) / 1000),
        errors: Object.fromEntries(errors),
      };
      if (f.json) console.log(JSON.stringify(out, null, 2));
      else {
        if (tty) console.error("");
        console.log(
          `${devices} devices (seed ${seed}, noise ±${noise}), ${out.seconds.toFixed(1)} s: sent ${s.sent}, accepted ${s.accepted} (${out.acceptedPerSecond.toFixed(1)}/s), rejected ${s.rejected}`,
        );
        for (const [m, n] of errors) console.log(`  ${n}× ${m}`);
      }
      if (s.sent > 0 && s.accepted === 0) process.exitCode = 1;
    });
}
