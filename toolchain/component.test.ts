/**
 * `mfi build --component`: each example applet, wrapped as a component, transpiled by jco and run in Node against
 * JS host functions (component-host.ts), gives the same journal and state as the core runtime on the same input.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { APPLETS_DIR, loadAppletManifest, manifestConfig } from "./applets.ts";
import { componentHost } from "./component-host.ts";
import { ComponentError, adaptCoreModule, componentize } from "./component.ts";
import { Engine } from "../runtime/index.ts";
import { ValidationError } from "../runtime/index.ts";
import { loadBuiltApplet } from "./harness.ts";
import { encodeInput } from "../runtime/index.ts";
import { decodeJournal } from "../runtime/index.ts";
import { parseReadingsJson } from "./readings-json.ts";
import { runModule } from "../runtime/index.ts";
import type { AppletState } from "../runtime/index.ts";
import { Store } from "../runtime/index.ts";
import { HostTrap } from "../runtime/index.ts";
import { appletWat } from "../runtime/testing.ts";

const engine = new Engine();
const work = mkdtempSync(join(tmpdir(), "mfi-component-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Run = () => void;
/** Componentize, transpile with jco, load the JS in Node; returns a factory of instances bound to a Store. */
async function loadComponent(name: string, wasm: Uint8Array): Promise<(store: Store) => Promise<Run>> {
  const component = await componentize({ wasm });
  const { transpile } = await import("@bytecodealliance/jco");
  const { files, imports, exports } = await transpile(component, {
    name: "applet",
    instantiation: "async",
    noTypescript: true,
    quiet: true,
  });
  expect(imports).toEqual(["mfi:applet/host"]);
  expect(exports).toEqual([["run", "function"]]);
  const dir = join(work, name);
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), bytes);
  }
  const js = (await import(pathToFileURL(join(dir, "applet.js")).href)) as {
    instantiate(
      getCore: (path: string) => Promise<WebAssembly.Module>,
      imports: Record<string, unknown>,
    ): Promise<{ run: Run }>;
  };
  return async (store) =>
    (
      await js.instantiate((p) => WebAssembly.compile(readFileSync(join(dir, p))), {
        "mfi:applet/host": componentHost(store),
      })
    ).run;
}

/** One component run on exactly the input bytes a core run gets. */
async function runBoth(
  instantiate: (store: Store) => Promise<Run>,
  wasm: Uint8Array,
  input: Uint8Array,
  state: AppletState = {},
) {
  const core = runModule(engine, engine.compile(wasm), { input, state });
  const store = new Store(engine, { input, state });
  (await instantiate(store))();
  return { core, journal: store.journal.finish(false), state: store.state.commit() };
}

describe("applet as a Wasm component (jco)", () => {
  it("the example applets give the core runtime's journal and state", async () => {
    for (const applet of ["energy-sum", "threshold-alert", "uptime-streak"]) {
      const wasm = loadBuiltApplet(applet);
      const config = manifestConfig(loadAppletManifest(join(APPLETS_DIR, applet)));
      const instantiate = await loadComponent(applet, wasm);
      let state: AppletState = {};
      for (const epoch of [1, 2, 3]) {
        let text: string;
        try {
          text = readFileSync(join(APPLETS_DIR, applet, "fixtures", `epoch-${epoch}.json`), "utf8");
        } catch {
          break;
        }
        const input = encodeInput({ readings: parseReadingsJson(text), config });
        const r = await runBoth(instantiate, wasm, input, state);
        expect(r.core.trap).toBeNull();
        expect(decodeJournal(r.core.journal).claims.length).toBeGreaterThan(0);
        expect(Buffer.from(r.journal).toString("hex")).toBe(Buffer.from(r.core.journal).toString("hex"));
        expect(r.state).toEqual(r.core.state);
        state = r.core.state;
      }
    }
  }, 300_000);

  // The adapter's tricky paths: a destination at address 0 (the return area moves above it), a value longer than
  // the room given (full length returned, prefix copied), a deleted key, a short input read, random; and the
  // 16 bytes lent as a return area must come back unchanged.
  it("adapts buffer-passing calls exactly (return area, short copies, deletes, random)", async () => {
    const wasm = appletWat({
      memory: "1 2",
      extra: `(data (i32.const 64) "\\07") (data (i32.const 128) "kx") (data (i32.const 136) "abcdefgh") (data (i32.const 300) "guard-bytes-0123")`,
      main: `
        (call $state_set (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 136) (i32.const 8))
        (i32.store (i32.const 200) (call $state_get (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 0) (i32.const 3)))
        (call $emit (i32.const 0) (i32.const 32))
        (call $emit (i32.const 200) (i32.const 4))
        (i32.store (i32.const 204) (call $state_get (i32.const 64) (i32.const 130) (i32.const 1) (i32.const 400) (i32.const 8)))
        (call $emit (i32.const 204) (i32.const 4))
        (call $state_set (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 0) (i32.const -1))
        (i32.store (i32.const 208) (call $input_read (i32.const 300) (i32.sub (call $input_len) (i32.const 5)) (i32.const 64)))
        (call $emit (i32.const 208) (i32.const 4))
        (call $emit (i32.const 280) (i32.const 60))
        (i64.store (i32.const 216) (call $random))
        (call $emit (i32.const 216) (i32.const 8))
        (call $claim (i32.const 64) (i64.const -2))
        (call $emit (i32.const 0) (i32.const 32))`,
    });
    const instantiate = await loadComponent("probe", wasm);
    const input = encodeInput({ readings: [{ deviceId: 7n, seq: 1n, ts: 5n, values: [1n] }] });
    const r = await runBoth(instantiate, wasm, input, { "7": { "78": "ff" } });
    expect(r.core.trap).toBeNull();
    const records = decodeJournal(r.core.journal).records.map((b) => Buffer.from(b));
    expect(records[0]!.toString("hex")).toBe(Buffer.concat([Buffer.from("abc"), Buffer.alloc(29)]).toString("hex"));
    expect(records[6]!.equals(records[0]!)).toBe(true);
    expect(records[4]!.subarray(20, 36).toString("latin1")).toMatch(/^\0{5}-bytes-0123$/);
    expect(records[1]!.readInt32LE(0)).toBe(8);
    expect(records[2]!.readInt32LE(0)).toBe(-1);
    expect(records[3]!.readInt32LE(0)).toBe(5);
    expect(Buffer.from(r.journal).toString("hex")).toBe(Buffer.from(r.core.journal).toString("hex"));
    expect(r.state).toEqual(r.core.state);
    expect(r.state).toEqual({ "7": { "78": "ff" } });
  }, 120_000);

  it("an abort reaches the JS host as AppletAbort with its message", async () => {
    const wasm = appletWat({
      extra: `(data (i32.const 0) "bad input")`,
      main: `(call $abort (i32.const 0) (i32.const 9))`,
    });
    const instantiate = await loadComponent("abort", wasm);
    const run = await instantiate(new Store(engine, { input: new Uint8Array(0) }));
    let caught: unknown;
    try {
      run();
    } catch (err) {
      caught = err;
    }
    const trap = caught instanceof HostTrap ? caught : (caught as { cause?: unknown })?.cause;
    expect(trap).toBeInstanceOf(HostTrap);
    expect(trap).toMatchObject({ kind: "AppletAbort", message: "bad input" });
  }, 120_000);

  it("refuses what is not a valid applet before any wrapping", async () => {
    expect(() => adaptCoreModule(new Uint8Array([1, 2, 3]))).toThrow(ValidationError);
    await expect(componentize({ wasm: appletWat({ main: "(drop (f32.const 1))" }) })).rejects.toThrow(ValidationError);
    expect(ComponentError.prototype).toBeInstanceOf(Error);
  });
});
