/**
 * `mfi prove`: a Groth16 receipt that a device's signed readings reduce to an output over an epoch.
 * (`mfi verify` is in verify.ts: it checks a receipt against the applet it claims for.)
 */
import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import {
  proveClaim,
  verifyReceipt,
  closeProver,
  receiptToJSON,
  CircuitsError,
  CircuitNotBuiltError,
  ReceiptFormatError,
  InvalidProveOptionsError,
  INSECURE_WARNING,
  REDUCERS,
  type ChainReading,
  type Reducer,
} from "../../circuits/index.ts";
import { assertOnSchedule, EpochScheduleError, packEpoch } from "../../device-sdk/index.ts";
import { proveSchedule } from "../prove-schedule.ts";
import { stageProgress } from "../progress.ts";

interface WireLike {
  deviceId: string;
  seq: string;
  ts: string;
  values: string[];
  prev: string;
  signature?: { R8x: string; R8y: string; S: string } | null;
}

function readReadingsFile(path: string): { readings: ChainReading[]; publicKey?: { x: bigint; y: bigint } } {
  const raw = JSON.parse(readFileSync(path, "utf8")) as
    WireLike[] | { readings: WireLike[]; publicKey?: { x: string; y: string } };
  const list = Array.isArray(raw) ? raw : raw.readings;
  if (!Array.isArray(list))
    throw new InvalidProveOptionsError(`${path} must hold an array of readings or { readings, publicKey }`);
  const readings = list.map((r) => ({
    deviceId: BigInt(r.deviceId),
    seq: BigInt(r.seq),
    ts: BigInt(r.ts),
    values: r.values.map((v) => BigInt(v)),
    prev: BigInt(r.prev),
    signature: r.signature
      ? { R8x: BigInt(r.signature.R8x), R8y: BigInt(r.signature.R8y), S: BigInt(r.signature.S) }
      : null,
  }));
  const pk = Array.isArray(raw) ? undefined : raw.publicKey;
  return { readings, publicKey: pk ? { x: BigInt(pk.x), y: BigInt(pk.y) } : undefined };
}

const exitFor = (err: unknown) =>
  err instanceof CircuitNotBuiltError
    ? 3
    : err instanceof InvalidProveOptionsError ||
        err instanceof ReceiptFormatError ||
        err instanceof SyntaxError ||
        err instanceof EpochScheduleError
      ? 2
      : 1;

export function register(program: Command): void {
  program
    .command("prove")
    .description("prove that a device's signed readings reduce to an output over an epoch (writes a receipt)")
    .requiredOption(
      "--readings <file>",
      "JSON: the device's readings (wire format, bigints as decimal strings), or { readings, publicKey }",
    )
    .option("--public-key <x,y>", "the device's public key (decimal), unless the readings file has publicKey")
    .requiredOption("--epoch-start <ms>", "epoch start, Unix ms")
    .requiredOption("--epoch-length <ms>", "epoch length in ms")
    .requiredOption("--image-id <hex>", "sha256 of the applet's Wasm")
    .option("--reducer <name>", `one of ${REDUCERS.join(", ")}`, "sum")
    .option("--threshold <n>", "count_above's threshold")
    .option("--claim <n>", "the applet's claimed output: refuse to prove when the circuit computes another")
    .option("--out <file>", "where to write the receipt JSON", "receipt.json")
    .option("--applet <dir>", "check the window against the applet's epoch length (applet.json) before proving")
    .option(
      "--rpc <url>",
      "check the window against the applet's schedule on chain (AppletRegistry) and chain time before proving",
    )
    .option("--deployments <dir>", "with --rpc: where the deployment manifest <chainId>.json is (default deployments/)")
    .addHelpText(
      "after",
      `
Uses the keys in build/circuits/ (npm run build:circuits). Shows witness → prove → verify with their times on stderr
(a progress bar on a terminal, one line per stage otherwise); the receipt is written only once it verifies.

Example:
  $ mfi prove --readings readings.json --epoch-start 1700000000000 --epoch-length 60000 --image-id 0xab… --claim 10
  $ mfi verify receipt.json --applet applets/energy-sum && mfi claim receipt.json --state .mfi/devnet

Exit codes: 0 proven, 1 refused or failed, 2 bad input, 3 circuits not built.`,
    )
    .action(
      async (o: {
        readings: string;
        publicKey?: string;
        epochStart: string;
        epochLength: string;
        imageId: string;
        reducer: string;
        threshold?: string;
        claim?: string;
        out: string;
        applet?: string;
        rpc?: string;
        deployments?: string;
      }) => {
        console.error(`⚠ ${INSECURE_WARNING}`);
        try {
          const { readings, publicKey: filePk } = readReadingsFile(o.readings);
          const pk = o.publicKey ? (([x, y]) => ({ x: BigInt(x!), y: BigInt(y!) }))(o.publicKey.split(",")) : filePk;
          if (!pk)
            throw new InvalidProveOptionsError(
              "no public key: pass --public-key x,y or put publicKey in the readings file",
            );
          const epoch = packEpoch({ startMs: BigInt(o.epochStart), lengthMs: BigInt(o.epochLength) });
          // The vault pays only the applet's schedule: refuse any other window before minutes of proving.
          const sched = await proveSchedule({
            imageId: o.imageId,
            applet: o.applet,
            rpcUrl: o.rpc,
            manifestDir: o.deployments,
          });
          if (sched)
            assertOnSchedule(
              { startMs: BigInt(o.epochStart), lengthMs: BigInt(o.epochLength) },
              sched.schedule,
              sched.nowMs,
            );
          else
            console.error(
              "⚠ the window is not checked against the applet's epoch schedule (pass --applet <dir> or --rpc <url>): the vault pays only epochs on it",
            );
          const t0 = performance.now();
          // witness → prove (snarkjs's steps shown inside it on a TTY) → verify (off-chain, before writing the receipt).
          const progress = stageProgress({ stages: ["witness", "prove", "verify"], label: "proving" });
          let r;
          try {
            r = await proveClaim({
              readings,
              devicePublicKey: pk,
              epoch,
              imageId: o.imageId,
              reducer: o.reducer as Reducer,
              params: o.threshold !== undefined ? { threshold: BigInt(o.threshold) } : undefined,
              claim: o.claim !== undefined ? BigInt(o.claim) : undefined,
              onProgress: (e) => progress.stage(e.stage),
            });
            progress.stage("verify");
            if (
              !(await verifyReceipt(r, {
                applet: { imageId: o.imageId, reducer: o.reducer as Reducer, param: r.claim.param },
              }))
            )
              throw new CircuitsError("the new proof does not verify against the built verification key", {
                details: "the keys in build/circuits/ are inconsistent: rebuild them with `npm run build:circuits`",
              });
            progress.done();
          } catch (err) {
            progress.fail();
            throw err;
          }
          writeFileSync(o.out, receiptToJSON(r) + "\n");
          console.log(
            `proved ${r.claim.reducer} = ${r.claim.output} for device ${r.claim.deviceId} over ${r.segment.insideCount} reading(s) with ${r.seal.circuit} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
          console.log(`receipt: ${o.out}`);
        } catch (err) {
          console.error(
            err instanceof CircuitsError ? `${err.name}: ${err.message}` : `error: ${(err as Error).message}`,
          );
          process.exitCode = exitFor(err);
        } finally {
          await closeProver();
        }
      },
    );
}
