/**
 * `mfi maker add|model|attest`: governance admits device makers (MakerRegistry); a maker adds models to its
 * catalogue and attests the devices it made (EIP-712), one or a batch file, for their owners to register.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { addModel, admitMaker, signAttestation, type MachinefiClient } from "../../contracts/index.ts";
import { encodeAttestation } from "../../device-sdk/index.ts";
import { exitCodeOf, UsageError } from "../errors.ts";
import { chainOptions, connect, type ChainFlags } from "./deploy.ts";

/** A device id as typed: decimal or 0x-hex, a nonzero field element (the registry checks the field). */
export function parseDeviceId(text: string): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new UsageError(`not a device id: ${JSON.stringify(text)}`);
  const id = BigInt(t);
  if (id === 0n) throw new UsageError("a device id is nonzero (Poseidon of the device's public key)");
  return id;
}

const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x), 2);

async function withClient(opts: ChainFlags, f: (c: MachinefiClient) => Promise<void>): Promise<void> {
  let client: MachinefiClient | undefined;
  try {
    client = await connect(opts);
    await f(client);
  } catch (err) {
    const e = err as Error & { shortMessage?: string };
    console.error(e.shortMessage ?? e.message);
    process.exitCode = exitCodeOf(err);
  } finally {
    client?.close();
  }
}

export function register(program: Command): void {
  const maker = program
    .command("maker")
    .description("device makers: admit one (governance), add a model, attest devices for their owners to register");

  chainOptions(
    maker.command("add <account> <name>").description("admit <account> as a maker named <name> (governance)"),
  )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      '\nExample:\n  $ mfi maker add 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 "Acme Sensors" --state .mfi/devnet --key 0xac09…\n\nNames are 1-64 of A-Z a-z 0-9 space - _ . (they go into the device tokens\' JSON).\nExit codes: 0 admitted, 1 refused on chain (not governance, already a maker, bad name), 2 bad usage, 3 chain unreachable.',
    )
    .action((account: string, name: string, opts: ChainFlags & { json?: boolean }) =>
      withClient(opts, async (client) => {
        const r = await admitMaker(client, { account, name });
        console.log(
          opts.json
            ? json({ makerId: r.makerId, account, name, txHash: r.hash })
            : `maker ${r.makerId}: ${name} (${account})`,
        );
      }),
    );

  chainOptions(maker.command("model <name>").description("add a model to the calling maker's catalogue"))
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      '\nExample:\n  $ mfi maker model "Meter-2" --state .mfi/devnet --key <maker key>\n\nModel 0 ("default") exists from admission; each new model gets the next number.\nExit codes: 0 added, 1 refused on chain (not a maker, bad name), 2 bad usage, 3 chain unreachable.',
    )
    .action((name: string, opts: ChainFlags & { json?: boolean }) =>
      withClient(opts, async (client) => {
        const r = await addModel(client, { name });
        console.log(opts.json ? json({ model: r.model, name, txHash: r.hash }) : `model ${r.model}: ${name}`);
      }),
    );

  chainOptions(
    maker
      .command("attest [deviceIds...]")
      .description("sign EIP-712 attestations that the calling maker made these devices (no transaction)"),
  )
    .option("--ids <file>", "a batch file: one device id per line (decimal or 0x-hex; # comments)")
    .option("--model <n>", "model number in the maker's catalogue", "0")
    .option("--out <file>", "write the attestations (a JSON array) here instead of stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  $ mfi maker attest 0x1d45…9f --key <maker key> --state .mfi/devnet > attestation.json\n  $ mfi maker attest --ids fleet.txt --model 1 --out attestations.json --key <maker key> --rpc http://127.0.0.1:8545\n\nEach attestation is bound to this chain and this DeviceRegistry; the owner registers with\n`mfi device register --key <device key> --attestation <file>`.\nExit codes: 0 written, 2 bad usage (no ids, bad id or model), 3 chain unreachable or no deployment manifest.",
    )
    .action((ids: string[], opts: ChainFlags & { ids?: string; model: string; out?: string }) =>
      withClient(opts, async (client) => {
        const lines = opts.ids
          ? readFileSync(opts.ids, "utf8")
              .split("\n")
              .map((l) => l.replace(/#.*/, "").trim())
              .filter(Boolean)
          : [];
        const all = [...ids, ...lines].map(parseDeviceId);
        if (all.length === 0) throw new UsageError("no device ids: pass them as arguments or with --ids <file>");
        const model = Number(opts.model);
        if (!Number.isInteger(model) || model < 0 || model > 65_535) throw new UsageError(`bad --model ${opts.model}`);
        const where = { chainId: client.chainId, registry: client.manifest.contracts.DeviceRegistry };
        const out = [];
        for (const deviceId of all)
          out.push(encodeAttestation(await signAttestation(client, { deviceId, model }), where));
        const text = json(ids.length === 1 && !opts.ids ? out[0] : out) + "\n";
        if (opts.out) {
          writeFileSync(opts.out, text);
          console.error(`${out.length} attestation(s) written to ${opts.out}`);
        } else process.stdout.write(text);
      }),
    );
}
