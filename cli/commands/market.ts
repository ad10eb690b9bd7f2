/**
 * `mfi market list|subscribe|read|verify`: browse DataMarket streams, pay for a subscription, read a subscribed
 * device's readings from a gateway (history or live, each range verified against the device's signatures), and
 * verify a saved range offline. Exit codes: docs/cli.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { Wallet } from "ethers";
import { createMarketClient, mintDevToken, type MachinefiClient } from "../../contracts/index.ts";
import {
  decodeSignature,
  encodeSignature,
  getDefaultBackend,
  GatewayRejectedError,
  readHistory,
  subscribeLive,
  verifyReading,
  type BuyerReading,
  type ServedReading,
} from "../../device-sdk/index.ts";
import { loadConfig } from "../config.ts";
import { exitCodeOf, UsageError } from "../errors.ts";
import { chainOptions, connect, type ChainFlags } from "./deploy.ts";

const big = (v: string, name: string): bigint => {
  if (!/^(0|[1-9][0-9]*)$/.test(v))
    throw new UsageError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return BigInt(v);
};
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x), 2);
const wire = (r: BuyerReading) => ({
  deviceId: r.deviceId,
  seq: r.seq,
  ts: r.ts,
  values: r.values,
  prev: r.prev,
  hash: r.hash,
  signature: r.signature && encodeSignature(r.signature),
});
const line = (r: BuyerReading) =>
  `seq ${r.seq}  ts ${new Date(Number(r.ts)).toISOString()}  values ${r.values.join(",")}${r.signature ? "  (signed)" : ""}`;

/** Refusals and failures → a message saying what to do, and the exit code of docs/cli.md. */
function fail(err: unknown, asJson?: boolean): void {
  const e = err as Error & { shortMessage?: string; details?: string };
  const code = exitCodeOf(err);
  let msg = e.shortMessage ?? e.message;
  if (err instanceof GatewayRejectedError) {
    const type = String(err.problem.type ?? "")
      .split("/")
      .pop();
    msg = `gateway refused (${err.status} ${type}): ${err.problem.title}${err.problem.detail ? `\n${err.problem.detail}` : ""}`;
    if (err.status === 402) msg += "\nnext: `mfi market subscribe <streamId>` (pays for a period)";
  }
  if (asJson) console.log(JSON.stringify({ error: msg, details: e.details }));
  else console.error(`${msg}${e.details && !msg.includes(e.details) ? `\n${e.details}` : ""}`);
  process.exitCode = code;
}

async function withClient(
  opts: ChainFlags & { json?: boolean },
  fn: (c: MachinefiClient) => Promise<void>,
): Promise<void> {
  let client: MachinefiClient | undefined;
  try {
    client = await connect(opts);
    await fn(client);
  } catch (err) {
    fail(err, opts.json);
  } finally {
    client?.close();
  }
}

type ReadFlags = ChainFlags & {
  device: string;
  gateway?: string;
  fromSeq?: string;
  toSeq?: string;
  fromTs?: string;
  toTs?: string;
  live?: boolean;
  out?: string;
  json?: boolean;
  verify: boolean;
};

export function register(program: Command): void {
  const market = program
    .command("market")
    .description("data streams: list, subscribe (pay on DataMarket), read from a gateway, verify provenance")
    .addHelpText(
      "after",
      "\nExample (devnet; --key a funded account):\n  $ mfi market list --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n  $ mfi market subscribe 1 --mint 1000 --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n  $ mfi market read 1 --device <deviceId> --gateway <url> --out range.json --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n  $ mfi market verify range.json\n\nSee docs/market.md.",
    );

  chainOptions(
    market.command("list").description("list DataMarket streams (price, period, devices) and your subscriptions"),
  )
    .option("--json", "print the streams as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi market list --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n\nExit codes: 0 listed, 2 bad usage, 3 chain unreachable or no deployment manifest.",
    )
    .action((opts: ChainFlags & { json?: boolean }) =>
      withClient(opts, async (client) => {
        const m = createMarketClient(client);
        const count = (await m.contract.getFunction("streamCount").staticCall()) as bigint;
        const streams = [];
        for (let id = 1n; id <= count; id++)
          streams.push({ ...(await m.stream(id)), yourExpiry: await m.expiresAt(id, client.address) });
        if (opts.json) return console.log(json(streams));
        if (!streams.length)
          return console.log("no streams listed yet (a device owner lists one with DataMarket.list)");
        for (const s of streams)
          console.log(
            `stream ${s.streamId}${s.listed ? "" : " (delisted)"}: ${s.pricePerPeriod} per ${s.periodSeconds} s in ${s.token}, owner ${s.owner}, devices ${s.deviceIds.join(", ")}${s.yourExpiry ? `; yours until ${new Date(Number(s.yourExpiry) * 1000).toISOString()}` : ""}`,
          );
      }),
    );

  chainOptions(
    market
      .command("subscribe <streamId>")
      .description("pay for periods of a stream (approves the stream's token, then subscribes)"),
  )
    .option("--periods <n>", "periods to buy", "1")
    .option("--max-price <wei>", "refuse if the price per period rose above this (default: the price read now)")
    .option("--mint <amount>", "devnets: mint this much DevToken to yourself first")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi market subscribe 1 --periods 2 --mint 1000 --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n\nExit codes: 0 subscribed, 1 the market refused (delisted, price raised, allowance/balance short), 2 bad usage, 3 chain unreachable or no deployment manifest.",
    )
    .action((id: string, opts: ChainFlags & { periods: string; maxPrice?: string; mint?: string; json?: boolean }) =>
      withClient(opts, async (client) => {
        const streamId = big(id, "streamId");
        const periods = big(opts.periods, "--periods");
        if (opts.mint) {
          if (!opts.json) console.error(`minting ${opts.mint} DevToken…`);
          await mintDevToken(client, big(opts.mint, "--mint"));
        }
        if (!opts.json) console.error(`approving and subscribing to stream ${streamId} for ${periods} period(s)…`);
        const r = await createMarketClient(client).subscribe({
          streamId,
          periods,
          maxPricePerPeriod: opts.maxPrice === undefined ? undefined : big(opts.maxPrice, "--max-price"),
        });
        if (opts.json) return console.log(json({ streamId, buyer: client.address, ...r }));
        console.log(
          `subscribed: paid ${r.paid} (fee ${r.fee}); active until ${new Date(Number(r.expiresAt) * 1000).toISOString()} (chain time)\nnext: mfi market read ${streamId} --device <deviceId> --gateway <url>`,
        );
      }),
    );

  chainOptions(
    market
      .command("read <streamId>")
      .description(
        "read a subscribed device's readings from a gateway and verify each against the device's signatures",
      ),
  )
    .requiredOption("--device <deviceId>", "device of the stream (see `mfi market list`)")
    .option("--gateway <url>", "gateway base URL (default MFI_GATEWAY_URL)")
    .option("--from-seq <n>", "first seq")
    .option("--to-seq <n>", "last seq (inclusive)")
    .option("--from-ts <ms>", "first reading time, Unix ms")
    .option("--to-ts <ms>", "last reading time, Unix ms (inclusive)")
    .option("--live", "follow the live feed (SSE) until the subscription expires or Ctrl-C")
    .option("--out <file>", "save the served range (with signatures) for `mfi market verify`")
    .option("--no-verify", "do not check signatures (not recommended)")
    .option("--json", "print readings as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  $ mfi market read 1 --device 1234… --gateway http://127.0.0.1:8787 --from-seq 1 --to-seq 100 --out range.json --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x5de4…\n  $ mfi market read 1 --device 1234… --gateway http://127.0.0.1:8787 --live --rpc http://127.0.0.1:8545 --key 0x5de4…\n\nExit codes: 0 read and verified, 1 the gateway refused (401 signature, 402 no/expired subscription, 403 other stream/device, 409 replay, 422 expired request) or a reading failed verification, 2 bad usage, 3 chain or gateway unreachable.",
    )
    .action((id: string, opts: ReadFlags) =>
      withClient(opts, async (client) => {
        const url = opts.gateway ?? process.env.MFI_GATEWAY_URL;
        if (!url)
          throw new UsageError("no gateway: pass --gateway <url> (or set MFI_GATEWAY_URL); `mfi devnet` prints it");
        const cfg = loadConfig({ overrides: opts.key ? { privateKey: opts.key } : {} });
        const target = {
          url,
          signer: new Wallet(cfg.privateKey!),
          streamId: big(id, "streamId"),
          deviceId: big(opts.device, "--device"),
          chainId: BigInt(client.chainId),
          market: client.manifest.contracts.DataMarket,
          backend: opts.verify ? await getDefaultBackend() : undefined,
          verify: opts.verify,
        };
        const opt = (v: string | undefined, n: string) => (v === undefined ? undefined : big(v, n));
        if (opts.live) {
          const ac = new AbortController();
          process.once("SIGINT", () => ac.abort());
          for await (const e of subscribeLive({
            ...target,
            fromSeq: opt(opts.fromSeq, "--from-seq"),
            signal: ac.signal,
          })) {
            if (e.type === "ready")
              console.error(
                `live from seq ${e.fromSeq}; subscription until ${new Date(Number(e.expiresAt) * 1000).toISOString()} (Ctrl-C to stop)`,
              );
            else if (e.type === "readings")
              for (const r of e.readings)
                console.log(
                  opts.json ? JSON.stringify(wire(r), (_, x) => (typeof x === "bigint" ? x.toString() : x)) : line(r),
                );
            else
              console.error(
                `feed ended: ${e.reason}${e.reason === "expired" ? " (renew with `mfi market subscribe`)" : ""}`,
              );
          }
          return;
        }
        const h = await readHistory({
          ...target,
          fromSeq: opt(opts.fromSeq, "--from-seq"),
          toSeq: opt(opts.toSeq, "--to-seq"),
          fromTs: opt(opts.fromTs, "--from-ts"),
          toTs: opt(opts.toTs, "--to-ts"),
        });
        if (opts.out)
          writeFileSync(
            opts.out,
            json({ deviceId: h.deviceId, publicKey: h.publicKey, readings: h.served.map(wire) }) + "\n",
          );
        if (opts.json)
          console.log(
            json({
              deviceId: h.deviceId,
              publicKey: h.publicKey,
              verified: h.verified,
              readings: h.readings.map(wire),
            }),
          );
        else {
          for (const r of h.readings) console.log(line(r));
          console.error(
            `${h.readings.length} reading(s) in range; ${opts.verify ? `${h.verified} verified against device ${h.deviceId}'s signatures` : "NOT verified (--no-verify)"}${opts.out ? `; saved to ${opts.out}` : ""}`,
          );
        }
      }),
    );

  market
    .command("verify <file>")
    .description(
      "verify a saved range (from `mfi market read --out`) offline: hash chain, device signature, key ↔ deviceId",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi market verify range.json\n\nExit codes: 0 the range proves itself, 1 it does not (the reason names the first bad reading), 2 unreadable file.",
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      let data: {
        deviceId: string;
        publicKey: { x: string; y: string };
        readings: {
          deviceId: string;
          seq: string;
          ts: string;
          values: string[];
          prev: string;
          signature: { R8x: string; R8y: string; S: string } | null;
        }[];
      };
      let readings: ServedReading[];
      try {
        data = JSON.parse(readFileSync(file, "utf8"));
        readings = data.readings.map((r) => ({
          deviceId: BigInt(r.deviceId),
          seq: BigInt(r.seq),
          ts: BigInt(r.ts),
          values: r.values.map((v) => BigInt(v)),
          prev: BigInt(r.prev),
          signature: r.signature && decodeSignature(r.signature),
        }));
      } catch (err) {
        console.error(`${file}: ${(err as Error).message} (make one with \`mfi market read … --out ${file}\`)`);
        return void (process.exitCode = 2);
      }
      try {
        const { verified } = verifyReading(
          await getDefaultBackend(),
          { x: BigInt(data.publicKey.x), y: BigInt(data.publicKey.y) },
          readings,
        );
        const out = {
          ok: true,
          verified,
          deviceId: data.deviceId,
          fromSeq: readings[0]!.seq,
          toSeq: readings[readings.length - 1]!.seq,
        };
        console.log(
          opts.json
            ? json(out)
            : `ok: ${verified} reading(s) of device ${data.deviceId} (seq ${out.fromSeq}..${out.toSeq}) prove themselves`,
        );
      } catch (err) {
        fail(err, opts.json);
      }
    });
}
