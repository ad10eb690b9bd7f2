/**
 * `mfi test [dir]`: compile an applet project (or applets/<name>), run it on its fixtures (or a readings file) exactly
 * as the network does, print journal, fuel and claims, report whether the applet compiles to a circuit
 * (circuits/compile): constraints and fuel bound per K, or the NotProvableError with the function, offset, reason and
 * what to change; and, when it does, check on each fixture that the compiled circuit claims what the run claims, device
 * by device (circuitAgreement: circom's witness of the claim template), so what `mfi test` shows is what gets proven.
 * An old manifest's `reducer` is still compared as well.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { circuitAgreement, compileApplet as compileCircuit, NotProvableError } from "../../circuits/index.ts";
import {
  APPLETS_DIR,
  compileApplet,
  loadAppletManifest,
  manifestConfig,
  parseReadingsJson,
  referenceClaims,
  runApplet,
  toJsonText,
} from "../../toolchain/index.ts";

export interface FixtureResult {
  fixture: string;
  fuelUsed: number;
  trap: string | null;
  claims: { deviceId: string; output: string }[];
  logs: string[];
  journalDigest: string;
  /** Claims an old manifest's reducer computes but the applet did not make (or made differently). */
  mismatches: { deviceId: string; applet: string | null; reducer: string | null }[];
  /** Devices whose compiled circuit claims otherwise than the run (over the span of their readings). */
  circuitMismatches: { deviceId: string; k: number; run: string | null; circuit: string | null }[];
  /** Devices checked against the circuit, and those that could not be (too many readings for the largest K). */
  circuitChecked: number;
  circuitSkipped: { deviceId: string; why: string }[];
  ok: boolean;
}

/** The circuit sizes `mfi test` reports (the slot counts the worker proves with). */
export const PROVABLE_KS = [16, 64] as const;

export type Provability =
  | {
      provable: true;
      circuits: { k: number; constraints: number; fuelBound: number }[];
      /** State keys carried between epochs as a commitment (issue 18; PayoutVault.claimStateful); 0: stateless. */
      stateKeys: number;
    }
  | { provable: false; reason: string; func: string; offset: number; message: string; hint: string };

/** Compiles the applet's Wasm into its claim circuit per K: the claim template's constraints, or why it cannot. */
export function provabilityReport(wasm: Uint8Array, hasParam: boolean): Provability {
  const circuits: { k: number; constraints: number; fuelBound: number }[] = [];
  let stateKeys = 0;
  for (const k of PROVABLE_KS) {
    try {
      // stateful: as deploy, the devnet and the worker compile it (a stateless applet's circuit is the same)
      const c = compileCircuit({ wasm, k, hasParam, stateful: true });
      circuits.push({ k, constraints: c.constraintEstimate, fuelBound: c.fuelBound });
      stateKeys = c.stateKeys.length;
    } catch (err) {
      if (!(err instanceof NotProvableError)) throw err;
      const { reason, func, offset, shortMessage, hint } = err;
      return { provable: false, reason, func, offset, message: shortMessage, hint };
    }
  }
  return { provable: true, circuits, stateKeys };
}

/** A project dir, or the name of an applet under applets/. */
export function appletDir(target: string): string {
  if (existsSync(join(target, "applet.json"))) return resolve(target);
  if (existsSync(join(APPLETS_DIR, target, "applet.json"))) return join(APPLETS_DIR, target);
  throw new Error(
    `no applet.json in ${target} (nor applets/${target}): run this in a project made by \`mfi init\`, or name an applet under applets/`,
  );
}

export async function testApplet(
  dir: string,
  readingsFiles?: string[],
): Promise<{ name: string; imageId: string; wasmBytes: number; results: FixtureResult[]; proof: Provability }> {
  const manifest = loadAppletManifest(dir);
  const entry = join(dir, "assembly", "index.ts");
  if (!existsSync(entry)) throw new Error(`no ${entry}: an applet's source is assembly/index.ts`);
  const { wasm } = await compileApplet({ entry });
  const fixtures =
    readingsFiles ??
    (existsSync(join(dir, "fixtures"))
      ? readdirSync(join(dir, "fixtures"))
          .filter((f) => f.endsWith(".json"))
          .sort()
          .map((f) => join(dir, "fixtures", f))
      : []);
  const param = manifest.param === undefined ? undefined : BigInt(manifest.param);
  const hasParam = manifest.param !== undefined;
  const proof = provabilityReport(wasm, hasParam);
  const results: FixtureResult[] = [];
  let imageId = "";
  for (const file of fixtures) {
    const readings = parseReadingsJson(readFileSync(file, "utf8"), file);
    const r = await runApplet({ wasm, readings, config: manifestConfig(manifest) });
    imageId = r.imageId;
    const got = new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]));
    const want = manifest.reducer ? referenceClaims(manifest.reducer, param, readings) : got;
    const mismatches = [...new Set([...got.keys(), ...want.keys()])]
      .filter((d) => got.get(d) !== want.get(d))
      .map((d) => ({
        deviceId: d.toString(),
        applet: got.get(d)?.toString() ?? null,
        reducer: want.get(d)?.toString() ?? null,
      }));
    const agreement = proof.provable
      ? await circuitAgreement({ wasm, hasParam, param, readings, ks: PROVABLE_KS, stateful: proof.stateKeys > 0 })
      : { checked: 0, disagreements: [], skipped: [] };
    const circuitMismatches = agreement.disagreements.map((d) => ({
      deviceId: d.deviceId.toString(),
      k: d.k,
      run: d.runtime?.toString() ?? null,
      circuit: d.circuit?.toString() ?? null,
    }));
    results.push({
      fixture: file,
      fuelUsed: Number(r.fuelUsed),
      trap: r.trap ? `${r.trap.kind}: ${r.trap.message}` : null,
      claims: r.decoded.claims.map((c) => ({ deviceId: c.deviceId.toString(), output: c.output.toString() })),
      logs: r.decoded.logs,
      journalDigest: r.journalDigest,
      mismatches,
      circuitMismatches,
      circuitChecked: agreement.checked,
      circuitSkipped: agreement.skipped.map((x) => ({ deviceId: x.deviceId.toString(), why: x.why })),
      ok: !r.trap && mismatches.length === 0 && circuitMismatches.length === 0,
    });
  }
  if (!imageId) imageId = (await runApplet({ wasm, readings: [], config: manifestConfig(manifest) })).imageId;
  return { name: manifest.name, imageId, wasmBytes: wasm.length, results, proof };
}

export function register(program: Command): void {
  program
    .command("test [dir]")
    .description(
      "compile an applet and run it on its fixtures (or --readings files): journal, fuel, claims, whether it compiles to a circuit (constraints per K, or why not), and that the circuit claims what the run claims",
    )
    .option(
      "--readings <files...>",
      "readings files instead of fixtures/*.json (e.g. recorded with GET /v1/devices/:id/readings)",
    )
    .option("--json", "print the results as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  $ mfi test                 # in a project made by mfi init\n  $ mfi test energy-sum --readings recorded.json\n\nExit codes: 0 every fixture ran, the circuit claims what the run claims and the applet is provable, 1 a trap, a claim mismatch or not provable (NotProvableError: function, offset, reason, what to change), 2 no applet or bad readings file, 3 compile error.",
    )
    .action(async (target: string | undefined, opts: { readings?: string[]; json?: boolean }) => {
      let dir: string;
      try {
        dir = appletDir(target ?? ".");
        for (const f of opts.readings ?? []) if (!existsSync(f)) throw new Error(`no such readings file: ${f}`);
      } catch (err) {
        console.error((err as Error).message);
        return void (process.exitCode = 2);
      }
      let out;
      try {
        out = await testApplet(dir, opts.readings);
      } catch (err) {
        const e = err as Error & { details?: string; name: string };
        if (opts.json) console.log(JSON.stringify({ error: { name: e.name, message: e.message, details: e.details } }));
        else console.error(`${e.message}${e.details ? `\n${e.details}` : ""}`);
        return void (process.exitCode = e.name === "CompileError" ? 3 : 2);
      }
      if (opts.json) console.log(toJsonText(out));
      else {
        console.log(`${out.name}  imageId ${out.imageId}  (${out.wasmBytes} bytes)`);
        if (out.results.length === 0) console.log("  no fixtures: add fixtures/*.json or pass --readings");
        for (const r of out.results) {
          console.log(
            `\n${basename(r.fixture)}  fuel ${r.fuelUsed}  journal ${r.journalDigest}${r.trap ? `\n  TRAP ${r.trap}` : ""}`,
          );
          for (const l of r.logs) console.log(`  log   ${l}`);
          for (const c of r.claims) console.log(`  claim device ${c.deviceId} output ${c.output}`);
          for (const m of r.mismatches)
            console.log(
              `  MISMATCH device ${m.deviceId}: applet ${m.applet ?? "no claim"}, reducer ${m.reducer ?? "no claim"} (fix the applet or drop the old reducer from applet.json)`,
            );
          for (const m of r.circuitMismatches)
            console.log(
              `  CIRCUIT MISMATCH device ${m.deviceId} (K=${m.k}): run ${m.run ?? "no claim"}, circuit ${m.circuit ?? "no claim"}: a compiler bug, please report it with this applet and fixture`,
            );
          if (r.circuitChecked > 0) console.log(`  circuit agrees with the run for ${r.circuitChecked} device(s)`);
          for (const x of r.circuitSkipped) console.log(`  circuit not checked for device ${x.deviceId}: ${x.why}`);
          console.log(r.ok ? "  ok" : "  FAILED");
        }
        const p = out.proof;
        if (p.provable)
          console.log(
            `\nprovable: ${p.circuits.map((c) => `K=${c.k} ${c.constraints.toLocaleString("en-US")} constraints (claim; + ReadingsChain), fuel ≤ ${c.fuelBound.toLocaleString("en-US")}`).join("; ")}` +
              (p.stateKeys
                ? `\nstateful: ${p.stateKeys} state key(s) carried between epochs as a commitment (stateIn → stateOut); each fixture is checked from an empty state, as a device's first epoch`
                : ""),
          );
        else
          console.log(
            `\nNOT PROVABLE: ${p.message}\n  reason ${p.reason}, function ${p.func}, offset 0x${p.offset.toString(16)}\n  change: ${p.hint}`,
          );
      }
      if (out.results.some((r) => !r.ok) || !out.proof.provable) process.exitCode = 1;
    });
}
