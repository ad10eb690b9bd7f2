/**
 * `mfi device register|rotate|revoke|transfer|show`: a device is an ERC-721 token of DeviceRegistry. Registration
 * and rotation carry a proof that the device key signed (owner, chainId, registry): a Groth16 proof of the
 * `register` circuit, or a MockVerifier proof when the deployment registers through it (devnets).
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { closeProver } from "../../circuits/index.ts";
import {
  deviceMetadata,
  keyOf,
  ownerOf,
  registerAttested,
  revokeKey,
  rotateKey,
  type DeviceAttestation,
  type Groth16Calldata,
  type MachinefiClient,
} from "../../contracts/index.ts";
import { buildJsBackend, decodeAttestation, loadDeviceKey } from "../../device-sdk/index.ts";
import { proofOfKey } from "../key-proof.ts";
import { exitCodeOf, UsageError } from "../errors.ts";
import { chainOptions, connect, type ChainFlags } from "./deploy.ts";
import { parseDeviceId } from "./maker.ts";

/** The device key in `file` (hex, as `mfi simulate` and device-sdk's key files keep it) and its proof of key for `owner`. */
async function proofOfKeyFile(
  client: MachinefiClient,
  file: string,
  owner: string,
): Promise<{ deviceId: bigint; proof: Groth16Calldata }> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such device key file`);
  const backend = await buildJsBackend();
  const key = await loadDeviceKey(backend, readFileSync(file, "utf8").trim());
  try {
    return { deviceId: key.deviceId, proof: await proofOfKey(client, backend, key, owner) };
  } finally {
    await closeProver();
  }
}

/** An attestation file written by `mfi maker attest` (one object, or an array: the entry for `deviceId`). */
function readAttestation(file: string, deviceId: bigint): DeviceAttestation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not an attestation file (${(err as Error).message})`, { cause: err });
  }
  let list: DeviceAttestation[];
  try {
    list = (Array.isArray(parsed) ? parsed : [parsed]).map(decodeAttestation);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`, { cause: err }); // bad input: exit 2
  }
  const a = list.find((x) => x.deviceId === deviceId);
  if (!a) throw new UsageError(`${file}: no attestation for device ${deviceId} (make one with \`mfi maker attest\`)`);
  return a;
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

const EXIT =
  "Exit codes: 0 done, 1 refused on chain (the named DeviceRegistry error), 2 bad usage or input, 3 chain unreachable, no deployment manifest or register circuit not built.";

export function register(program: Command): void {
  const device = program
    .command("device")
    .description("device tokens (ERC-721): register with a maker's attestation, rotate or revoke the key, transfer");

  chainOptions(
    device
      .command("register")
      .description("register the device whose key is in --key; with --attestation as made by its maker"),
  )
    .requiredOption("--key-file <file>", "the device's key file (hex private key)")
    .option("--attestation <file>", "the maker's attestation (`mfi maker attest`); without it the device has no maker")
    .option("--owner <address>", "who receives the token (default: the sender)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `\nExamples:\n  $ mfi device register --key-file device.key --attestation attestation.json --state .mfi/devnet --key 0x59c6…\n  $ mfi device register --key-file device.key --owner 0x3C44…93BC --rpc http://127.0.0.1:8545 --key 0x59c6…\n\nWithout an attestation only applets open to any device pay it.\n${EXIT}`,
    )
    .action((opts: ChainFlags & { keyFile: string; attestation?: string; owner?: string; json?: boolean }) =>
      withClient(opts, async (client) => {
        const owner = opts.owner ?? client.address;
        const { deviceId, proof } = await proofOfKeyFile(client, opts.keyFile, owner);
        const r = opts.attestation
          ? await registerAttested(client, { attestation: readAttestation(opts.attestation, deviceId), owner, proof })
          : await client.registerDevice({ deviceId, owner, proof });
        console.log(opts.json ? json({ tokenId: deviceId, owner, txHash: r.hash }) : `device ${deviceId} → ${owner}`);
      }),
    );

  chainOptions(device.command("rotate <tokenId>").description("make the key in --key-file the token's key from now"))
    .requiredOption("--key-file <file>", "the new key's file (hex private key)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `\nExample:\n  $ mfi device rotate 0x1d45…9f --key-file new.key --state .mfi/devnet --key <owner or maker key>\n\nThe old key stops earning now; epochs that straddle the rotation pay under neither key.\n${EXIT}`,
    )
    .action((token: string, opts: ChainFlags & { keyFile: string; json?: boolean }) =>
      withClient(opts, async (client) => {
        const tokenId = parseDeviceId(token);
        const owner = await ownerOf(client, tokenId);
        const { deviceId: newKeyId, proof } = await proofOfKeyFile(client, opts.keyFile, owner);
        const r = await rotateKey(client, { tokenId, newKeyId, proof });
        console.log(opts.json ? json({ tokenId, newKeyId, txHash: r.hash }) : `device ${tokenId}: key ${newKeyId}`);
      }),
    );

  chainOptions(
    device.command("revoke <tokenId>").description("revoke the token's current key from --from (default now)"),
  )
    .option("--from <ms>", "revocation time, unix ms or an ISO date (default: the chain's time)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `\nExample (a key stolen at 10:00 UTC):\n  $ mfi device revoke 0x1d45…9f --from 2026-12-05T10:00:00Z --state .mfi/devnet --key <owner key>\n\nEpochs ending after --from never pay this key again; rotate to a new key to earn again.\n${EXIT}`,
    )
    .action((token: string, opts: ChainFlags & { from?: string; json?: boolean }) =>
      withClient(opts, async (client) => {
        const tokenId = parseDeviceId(token);
        let fromMs: bigint;
        if (opts.from === undefined) fromMs = BigInt((await client.provider.getBlock("latest"))!.timestamp) * 1000n;
        else if (/^\d+$/.test(opts.from)) fromMs = BigInt(opts.from);
        else {
          const t = Date.parse(opts.from);
          if (Number.isNaN(t)) throw new UsageError(`--from ${opts.from}: not unix ms or an ISO date`);
          fromMs = BigInt(t);
        }
        const r = await revokeKey(client, { tokenId, fromMs });
        console.log(
          opts.json ? json({ tokenId, fromMs, txHash: r.hash }) : `device ${tokenId}: key revoked from ${fromMs} ms`,
        );
      }),
    );

  chainOptions(device.command("transfer <tokenId> <to>").description("ERC-721 safeTransferFrom of your device token"))
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `\nExample:\n  $ mfi device transfer 0x1d45…9f 0x3C44…93BC --state .mfi/devnet --key <owner key>\n\nThe next claims pay <to>; your market streams of this device stop selling.\n${EXIT}`,
    )
    .action((token: string, to: string, opts: ChainFlags & { json?: boolean }) =>
      withClient(opts, async (client) => {
        const tokenId = parseDeviceId(token);
        if (!/^0x[0-9a-fA-F]{40}$/.test(to)) throw new UsageError(`${to}: not an address`);
        const r = await client.transferDevice({ deviceId: tokenId, to });
        console.log(opts.json ? json({ tokenId, to, txHash: r.hash }) : `device ${tokenId} → ${to}`);
      }),
    );

  chainOptions(device.command("show <tokenId>").description("owner, maker, model and key of a device token"))
    .addHelpText("after", `\nExample:\n  $ mfi device show 0x1d45…9f --state .mfi/devnet --key 0x59c6…\n\n${EXIT}`)
    .action((token: string, opts: ChainFlags) =>
      withClient(opts, async (client) => {
        const tokenId = parseDeviceId(token);
        const [owner, key, meta] = await Promise.all([
          ownerOf(client, tokenId),
          keyOf(client, tokenId),
          deviceMetadata(client, tokenId),
        ]);
        console.log(json({ tokenId, owner, key, attributes: meta.attributes }));
      }),
    );
}
