/**
 * `npm run demo:applets` (scripts/demo-applets.ts): every example applet over its bundled fixtures, printing claims,
 * journal and fuel, with no chain, gateway or prover.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listApplets, manifestConfig } from "./applets.ts";
import { Engine } from "../runtime/index.ts";
import type { AppletState } from "../runtime/index.ts";
import { decodeJournal } from "../runtime/index.ts";
import { parseReadingsJson } from "./readings-json.ts";
import { runModule } from "../runtime/index.ts";
import { loadBuiltApplet } from "./harness.ts";

export interface DemoRun {
  applet: string;
  fixture: string;
  claims: { deviceId: bigint; output: bigint }[];
  fuelUsed: number;
  trap: string | null;
}

/** Runs each applet over its fixtures in file order, carrying state from one fixture (epoch) to the next. */
export function runAppletFixtures(opts: { log?: (line: string) => void; engine?: Engine } = {}): DemoRun[] {
  const log = opts.log ?? (() => {});
  const engine = opts.engine ?? new Engine();
  const runs: DemoRun[] = [];
  for (const a of listApplets()) {
    const module = engine.compile(loadBuiltApplet(a.name));
    log(`\n▶ ${a.name} — ${a.manifest.description}`);
    log(`  imageId ${module.imageId}${a.manifest.param !== undefined ? `  param ${a.manifest.param}` : ""}`);
    let state: AppletState = {};
    const fixtures = readdirSync(join(a.dir, "fixtures"))
      .filter((f) => f.endsWith(".json"))
      .sort();
    for (const f of fixtures) {
      const readings = parseReadingsJson(readFileSync(join(a.dir, "fixtures", f), "utf8"), f);
      const r = runModule(engine, module, { readings, config: manifestConfig(a.manifest), state });
      const j = decodeJournal(r.journal);
      state = r.state;
      log(
        `  ${f}: ${readings.length} readings → ${j.claims.length} claims, fuel ${r.fuelUsed}${r.trap ? `, TRAP ${r.trap.kind}: ${r.trap.message}` : ""}`,
      );
      for (const c of j.claims) log(`    claim device ${short(c.deviceId)} output ${c.output}`);
      for (const l of j.logs) log(`    log    ${l}`);
      for (const rec of j.records) log(`    record ${new TextDecoder().decode(rec)}`);
      log(`    journal ${r.journalDigest.slice(0, 16)}…  stateRoot ${r.stateRoot.slice(0, 16)}…`);
      runs.push({ applet: a.name, fixture: f, claims: j.claims, fuelUsed: r.fuelUsed, trap: r.trap?.kind ?? null });
    }
  }
  return runs;
}

function short(id: bigint): string {
  const s = id.toString();
  return s.length > 14 ? `${s.slice(0, 6)}…${s.slice(-6)}` : s;
}
