/**
 * `mfi prove <applet.wasm>`: a Groth16 receipt that the applet's own Wasm, compiled into its circuit, computes its
 * claim from a device's signed readings over an epoch (the circuit is compiled and set up on first use). Without an
 * applet, `--image-id` and `--reducer` prove with a built-in reducer circuit as before compiled applets.
 * (`mfi verify` is in verify.ts: it checks a receipt against the applet it claims for.)
 */
import type { Command } from "commander";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import {
  APPLET_SIZES,
  proveAppletReceipt,
  selectSegment,
  setupAppletCircuit,
  TooManyReadingsError,
  NotProvableError,
  proveClaim,
  verifyReceipt,
  closeProver,
  receiptToJSON,
  CircuitsError,
  CircuitNotBuiltError,
  ReceiptFormatError,
  InvalidProveOptionsError,
  INSECURE_WARNING,
  proverSummary,
  REDUCERS,
  type ChainReading,
  type Reducer,
} from "../../circuits/index.ts";
import { assertOnSchedule, EpochScheduleError, packEpoch } from "../../device-sdk/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
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
        err instanceof NotProvableError ||
        err instanceof ReceiptFormatError ||
        err instanceof SyntaxError ||
        err instanceof EpochScheduleError
      ? 2
      : 1;

export function register(program: Command): void {
  program
    .command("prove [applet]")
    .description(
      "prove the claim an applet's Wasm computes from a device's signed readings over an epoch (writes a receipt)",
    )
    .requiredOption(
      "--readings <file>",
      "JSON: the device's readings (wire format, bigints as decimal strings), or { readings, publicKey }",
    )
    .option("--public-key <x,y>", "the device's public key (decimal), unless the readings file has publicKey")
    .requiredOption("--epoch-start <ms>", "epoch start, Unix ms")
    .requiredOption("--epoch-length <ms>", "epoch length in ms")
    .option("--param <n>", "the applet's param (applet.json param): a public signal of its circuit")
    .option("--claim <n>", "the applet's claimed output: refuse to prove when the circuit computes another")
    .option("--image-id <hex>", "without [applet]: sha256 of the applet's Wasm, proven with a built-in --reducer")
    .option("--reducer <name>", `without [applet]: one of ${REDUCERS.join(", ")}`, "sum")
    .option("--threshold <n>", "without [applet]: count_above's threshold")
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
The applet's Wasm is compiled into a circuit for the smallest K (${APPLET_SIZES.join(", ")}) the segment fits, set up with
DEV keys on first use (progress on stderr; cached under build/applet-circuits/), run, and its claim proven; an applet
the compiler cannot express is refused with NotProvableError (exit 2). The receipt is written only once it verifies.

Example:
  $ mfi prove build/applets/energy-sum.wasm --readings readings.json --epoch-start 1700000000000 --epoch-length 60000
  $ mfi verify receipt.json --applet build/applets/energy-sum.wasm && mfi claim receipt.json --state .mfi/devnet

Exit codes: 0 proven, 1 refused or failed, 2 bad input or not provable, 3 circuits not built.`,
    )
    .action(
      async (
        appletPath: string | undefined,
        o: {
          readings: string;
          publicKey?: string;
          epochStart: string;
          epochLength: string;
          imageId?: string;
          param?: string;
          reducer: string;
          threshold?: string;
          claim?: string;
          out: string;
          applet?: string;
          rpc?: string;
          deployments?: string;
        },
      ) => {
        console.error(`⚠ ${INSECURE_WARNING}`);
        try {
          if (appletPath !== undefined) return await proveCompiled(appletPath, o);
          if (!o.imageId)
            throw new InvalidProveOptionsError(
              "name the applet: mfi prove <applet.wasm> (or --image-id with --reducer)",
            );
          const { readings, publicKey: filePk } = readReadingsFile(o.readings);
          const pk = o.publicKey ? (([x, y]) => ({ x: BigInt(x!), y: BigInt(y!) }))(o.publicKey.split(",")) : filePk;
          if (!pk)
            throw new InvalidProveOptionsError(
              "no public key: pass --public-key x,y or put publicKey in the readings file",
            );
          const epoch = packEpoch({ startMs: BigInt(o.epochStart), lengthMs: BigInt(o.epochLength) });
          // The vault pays only the applet's schedule: refuse any other window before minutes of proving.
          const sched = await proveSchedule({
            imageId: o.imageId!,
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
              imageId: o.imageId!,
              reducer: o.reducer as Reducer,
              params: o.threshold !== undefined ? { threshold: BigInt(o.threshold) } : undefined,
              claim: o.claim !== undefined ? BigInt(o.claim) : undefined,
              onProgress: (e) => progress.stage(e.stage),
            });
            progress.stage("verify");
            if (
              !(await verifyReceipt(r, {
                applet: { imageId: o.imageId!, reducer: o.reducer as Reducer, param: r.claim.param },
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

/** `mfi prove <applet.wasm>`: compile (cached), run, prove and verify the applet's claim with its own circuit. */
async function proveCompiled(
  path: string,
  o: {
    readings: string;
    publicKey?: string;
    epochStart: string;
    epochLength: string;
    param?: string;
    claim?: string;
    out: string;
    applet?: string;
    rpc?: string;
    deployments?: string;
  },
): Promise<void> {
  if (!existsSync(path) || statSync(path).isDirectory() || !path.endsWith(".wasm"))
    throw new InvalidProveOptionsError(`${path}: pass the applet's built .wasm (mfi build writes build/<name>.wasm)`);
  const wasm = new Uint8Array(readFileSync(path));
  const imageId = imageIdOf(wasm);
  const { readings, publicKey: filePk } = readReadingsFile(o.readings);
  const pk = o.publicKey ? (([x, y]) => ({ x: BigInt(x!), y: BigInt(y!) }))(o.publicKey.split(",")) : filePk;
  if (!pk)
    throw new InvalidProveOptionsError("no public key: pass --public-key x,y or put publicKey in the readings file");
  const window = { startMs: BigInt(o.epochStart), lengthMs: BigInt(o.epochLength) };
  const sched = await proveSchedule({ imageId, applet: o.applet, rpcUrl: o.rpc, manifestDir: o.deployments });
  if (sched) assertOnSchedule(window, sched.schedule, sched.nowMs);
  const param = o.param === undefined ? undefined : BigInt(o.param);
  const t0 = performance.now();
  const needed = selectSegment(readings, pk, window).slots.length;
  const k = APPLET_SIZES.find((s) => s >= needed);
  if (k === undefined)
    throw new TooManyReadingsError(
      `the segment needs ${needed} slots but the largest applet circuit has K = ${APPLET_SIZES[APPLET_SIZES.length - 1]}`,
    );
  const circuit = await setupAppletCircuit({
    wasm,
    k,
    hasParam: param !== undefined,
    log: (m) => console.error(m),
  });
  console.error(proverSummary().line);
  const progress = stageProgress({ stages: ["prove", "verify"], label: "proving" });
  let r;
  try {
    progress.stage("prove");
    r = await proveAppletReceipt({
      circuit,
      wasm,
      readings,
      devicePublicKey: pk,
      epoch: window,
      param,
      claim: o.claim !== undefined ? BigInt(o.claim) : undefined,
    });
    progress.stage("verify");
    if (!(await verifyReceipt(r, { applet: { wasm, param, log: () => {} } })))
      throw new CircuitsError(`the new proof does not verify against ${circuit.name}'s verification key`, {
        details: `its keys in ${circuit.dir} are inconsistent: delete the folder and prove again`,
      });
    progress.done();
  } catch (err) {
    progress.fail();
    throw err;
  }
  writeFileSync(o.out, receiptToJSON(r) + "\n");
  console.log(
    `proved ${basename(path, ".wasm")} output = ${r.claim.output} for device ${r.claim.deviceId} over ${r.segment.insideCount} reading(s) with ${circuit.name} (${circuit.constraints.toLocaleString("en-US")} constraints) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(`receipt: ${o.out}`);
}
