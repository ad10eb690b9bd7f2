/**
 * circuits/compile: the applet compiler. From an applet's validated Wasm and K, a circom template
 * `AppletClaim_<imageId prefix>(K)` whose output is the claim that exact Wasm makes for one device's epoch of up to
 * K readings, and a main that joins it with ReadingsChain(K) and pins the imageId. Deterministic: the same Wasm and
 * K give byte-identical text (docs/circuits.md, "Compiled applets").
 */
import { imageIdHex } from "../../core/index.ts";
import { imageIdToField } from "../../device-sdk/index.ts";
import { DEFAULT_ENGINE_CONFIG, imageIdOf } from "../../runtime/index.ts";
import { Builder } from "./builder.ts";
import { NotProvableError } from "./errors.ts";
import { Executor } from "./exec.ts";
import { Host, type InputSignals } from "./host.ts";
import { Memory } from "./memory.ts";
import type { State } from "./state.ts";
import { decodeBody, type Instr } from "./decode.ts";
import { parseModule, type WasmModule } from "./wasm.ts";
import { byKeyBytes } from "./state-commit.ts";

export { NotProvableError, CompileInputError, type NotProvableReason } from "./errors.ts";
export { StateEncodingError } from "./errors.ts";
export { emptyStateCommitment, stateCommitment, stateSlots } from "./state-commit.ts";

export interface CompileAppletOptions {
  wasm: Uint8Array;
  k: number;
  /** The applet reads a config param (the manifest's `param`): an i64 public input. */
  hasParam?: boolean;
  /** The engine's fuel per run that the proof states the run finished within (default: the runtime's default). */
  fuel?: number;
  /**
   * Compile state_get/state_set under constant keys into stateIn/stateOut commitments ("State between epochs");
   * default false: a stateful applet is refused (StatefulApplet) where a device's state is not carried (mfi test,
   * mfi prove, mock proofs); the devnet and the worker pass true (PayoutVault.claimStateful pays it).
   */
  stateful?: boolean;
}

export interface CompiledApplet {
  /** The applet's imageId as the runtime names it: hex without 0x (`imageIdHex`). */
  imageId: string;
  k: number;
  templateName: string;
  /** The claim template alone (for a batch circuit to instantiate N times). */
  template: string;
  /** A full main file: ReadingsChain(K) + the claim template, public imageId, deviceId, epoch, claimOutput[, param]. */
  main: string;
  /** A main of the claim template alone (tests: witness of the claim computation without chain and signature). */
  claimOnlyMain: string;
  /** Constraints the compiler emitted (circom --O2 may remove a few more). */
  constraintEstimate: number;
  /** A static upper bound of the fuel any run with up to K readings uses (fuel.ts); at most the fuel limit. */
  fuelBound: number;
  /**
   * The state keys (hex of their bytes) the circuit commits to, in commitment order; empty for a stateless applet
   * (no stateIn/stateOut). See stateCommitment (state-commit.ts) and docs/circuits.md "State between epochs".
   */
  stateKeys: string[];
}

export function compileApplet(opts: CompileAppletOptions): CompiledApplet {
  const { wasm, k: K } = opts;
  if (!Number.isInteger(K) || K < 1 || K > 4096)
    throw new NotProvableError(`K = ${K} is not a slot count (1..4096)`, {
      reason: "TooLarge",
      func: "-",
      offset: 0,
      hint: "use K in 1..4096",
    });
  const imageId = imageIdHex(imageIdOf(wasm));
  const m = parseModule(wasm);
  if (!opts.stateful) refuseState(m);
  const b = new Builder(K);
  const ids = (name: string) => b.input(name);
  const sig: InputSignals = {
    epochStart: ids("epochStart"),
    epochLength: ids("epochLength"),
    seq0: ids("seq0"),
    param: opts.hasParam ? ids("param") : undefined,
    ts: [],
    values: [],
  };
  for (let i = 0; i < K; i++) b.insideIds.push(ids(`inside[${i}]`));
  for (let i = 0; i < K; i++) sig.ts.push(ids(`ts[${i}]`));
  for (let i = 0; i < K; i++) sig.values.push([0, 1, 2, 3].map((j) => ids(`values[${i}][${j}]`)));
  const host = new Host(b, sig);
  const ex = new Executor(m, b, host);

  const image = new Uint8Array(m.memoryPages * 65536);
  for (const d of m.data) image.set(d.bytes, d.offset);
  let s: State | null = {
    ns: Array.from({ length: K }, (_, i) => i + 1),
    facts: [],
    globals: m.globals.map((g) => ({ kind: "c", c: g.init })),
    mem: new Memory(K, image, m.memoryPages),
    claimed: { kind: "c", c: 0n },
    out: { kind: "c", c: 0n },
    frames: [{ locals: [], stack: [] }],
    kv: new Map(),
    kvIn: new Map(),
  };
  s = ex.runExport("_initialize", s);
  if (s) s = ex.runExport("mfi_main", s);
  if (!s)
    throw new NotProvableError("the applet traps on every input", {
      reason: "NeverClaims",
      func: "mfi_main",
      offset: 0,
      hint: "an applet that always traps never claims",
    });
  // The statement says the run finished within its fuel: every run the circuit admits is bounded statically.
  const fuel = opts.fuel ?? DEFAULT_ENGINE_CONFIG.fuel;
  if (ex.fuel > fuel)
    throw new NotProvableError(`a run with up to ${K} readings may use ${ex.fuel} fuel, above the limit of ${fuel}`, {
      reason: "FuelLimit",
      func: "mfi_main",
      offset: 0,
      hint: "use a smaller K, do less work per reading, or run the applet with more fuel",
    });
  const claimed = b.lcOf(s.claimed);
  if (claimed.lo === 0n && claimed.hi === 0n)
    throw new NotProvableError("the applet never calls claim", {
      reason: "NeverClaims",
      func: "mfi_main",
      offset: 0,
      hint: "call claim(device, output) for the device",
    });
  // Every witness is a run that did not trap (traps are excluded above) and claimed exactly once.
  b.assertZero({ terms: claimed.lc.terms, k: claimed.lc.k - 1n });
  const out = b.lcOf(s.out);
  const st = stateLines(b, host.stateKeys, s);

  const templateName = `AppletClaim_${imageId.slice(0, 16)}`;
  const template = [
    `// ${templateName}(K): the claim applet ${imageId} computes for one device and its epoch's readings.`,
    `// Generated by circuits/compile from the applet's Wasm; do not edit. Inputs are the ReadingsChain slots;`,
    `// The caller guarantees epochStart < 2^48, epochLength < 2^32 (the main takes them from the epoch's bits), inside[]`,
    `// a prefix mask with inside[0] = 1, and epochStart <= ts[i] < epochStart + epochLength for inside slots (ReadingsChain`,
    `// proves all three); values, param and seq are range-checked here.`,
    `template ${templateName}(K) {`,
    `    assert(K == ${K});`,
    `    signal input inside[K];`,
    `    signal input ts[K];`,
    `    signal input values[K][4];`,
    `    signal input epochStart;`,
    `    signal input epochLength;`,
    `    signal input seq0;`,
    ...(opts.hasParam ? [`    signal input param;`] : []),
    ...st.inputs,
    `    signal output claimOutput;`,
    ...st.outputs,
    `    signal w[${Math.max(1, b.internalCount)}];`,
    ...st.slots,
    ...b.lines,
    `    claimOutput <== ${b.text(out.lc)};`,
    ...st.commit,
    `}`,
  ].join("\n");

  const header = `pragma circom 2.1.0;\n// Generated by circuits/compile (applet ${imageId}, K = ${K}); do not edit.\n`;
  const poseidon = st.keys.length ? `include "circomlib/circuits/poseidon.circom";\n` : "";
  const claimOnlyMain = `${header}${poseidon}\n${template}\n\ncomponent main = ${templateName}(${K});\n`;
  const main = `${header}include "circomlib/circuits/bitify.circom";\ninclude "readings.circom";\n\n${template}\n\n${mainTemplate(templateName, imageId, K, !!opts.hasParam, st.keys.length)}\n`;
  return {
    imageId,
    k: K,
    templateName,
    template,
    main,
    claimOnlyMain,
    constraintEstimate: b.constraintEstimate,
    fuelBound: ex.fuel,
    stateKeys: st.keys,
  };
}

/**
 * Without `stateful`, an applet that calls state_get/state_set is refused up front as before, naming state and the
 * first call site: the callers that do not carry a device's state between epochs (mfi test, mfi prove, mock proofs)
 * compile without it; the devnet and the worker compile with it (PayoutVault.claimStateful pays such claims).
 */
function refuseState(m: WasmModule): void {
  const state = new Set(
    m.imports.flatMap((i, idx) => (i.module === "mfi" && i.name.startsWith("state_") ? [idx] : [])),
  );
  if (state.size === 0) return;
  const find = (body: Instr[]): Instr | undefined => {
    for (const i of body) {
      if (i.op === "call" && state.has(i.a!)) return i;
      const inner = (i.body && find(i.body)) || (i.else && find(i.else));
      if (inner) return inner;
    }
    return undefined;
  };
  for (let fi = 0; fi < m.funcs.length; fi++) {
    let body: Instr[];
    try {
      body = decodeBody(m, fi);
    } catch (e) {
      if (e instanceof NotProvableError) continue; // refused where it runs, if it runs
      throw e;
    }
    const at = find(body);
    if (at)
      throw new NotProvableError(
        `the applet keeps state between epochs (calls ${m.imports[at.a!]!.name}), which is not provable yet`,
        {
          reason: "StatefulApplet",
          func: m.funcs[fi]!.name,
          offset: at.at,
          hint: "here the device's state is not carried between epochs (mfi prove, mock proofs): deploy it with mfi deploy or run it on the devnet with real proofs, where its state enters the proof as a commitment (PayoutVault.claimStateful); or compute the claim from this epoch's readings alone",
        },
      );
  }
}

/**
 * The template's state: slot i's input signals sp[i], sv[i] (the order the applet first touched the keys) are wired
 * from stateIn[2j], stateIn[2j+1] where j is the key's rank in byte order; stateInHash and stateOutHash are the
 * Poseidon commitments of the state before and after the run (state-commit.ts).
 */
function stateLines(b: Builder, touched: string[], s: State) {
  const keys = [...touched].sort(byKeyBytes);
  if (!keys.length) return { keys, inputs: [], outputs: [], slots: [], commit: [] };
  const M = keys.length;
  const slots = [`    signal sp[${M}];`, `    signal sv[${M}];`];
  touched.forEach((k, i) => {
    const j = keys.indexOf(k);
    slots.push(`    sp[${i}] <== stateIn[${2 * j}];`, `    sv[${i}] <== stateIn[${2 * j + 1}];`);
  });
  const commit = [
    `    component hIn = Poseidon(${2 * M});`,
    `    hIn.inputs <== stateIn;`,
    `    stateInHash <== hIn.out;`,
    `    component hOut = Poseidon(${2 * M});`,
  ];
  keys.forEach((k, j) => {
    const slot = s.kv.get(k) ?? s.kvIn.get(k)!;
    commit.push(
      `    hOut.inputs[${2 * j}] <== ${b.text(b.lcOf(slot.p).lc)};`,
      `    hOut.inputs[${2 * j + 1}] <== ${b.text(b.lcOf(slot.v).lc)};`,
    );
  });
  commit.push(`    stateOutHash <== hOut.out;`);
  return {
    keys,
    inputs: [`    signal input stateIn[${2 * M}];`],
    outputs: [`    signal output stateInHash;`, `    signal output stateOutHash;`],
    slots,
    commit,
  };
}

function mainTemplate(claim: string, imageId: string, K: number, hasParam: boolean, stateKeys: number): string {
  const name = `AppletMain_${imageId.slice(0, 16)}`;
  const pub = [
    "imageId",
    "deviceId",
    "epoch",
    "claimOutput",
    ...(hasParam ? ["param"] : []),
    ...(stateKeys ? ["stateIn", "stateOut"] : []),
  ];
  return `// Public signals in the order the vault rebuilds them: ${pub.join(", ")}.
template ${name}(K) {
${pub.map((p) => `    signal input ${p};`).join("\n")}
    signal input Ax;
    signal input Ay;
    signal input S;
    signal input R8x;
    signal input R8y;
    signal input hasBefore;
    signal input beforeSeq;
    signal input beforeTs;
    signal input beforeValues[4];
    signal input beforePrev;
    signal input enabled[K];
    signal input inside[K];
    signal input ts[K];
    signal input values[K][4];
${stateKeys ? `    signal input stateValues[${2 * stateKeys}];\n` : ""}
    // The statement is about this exact Wasm: its imageId is a constant of the circuit.
    imageId === ${imageIdToField(imageId)};

    component chain = ReadingsChain(K);
    chain.deviceId <== deviceId;
    chain.epoch <== epoch;
    chain.Ax <== Ax;
    chain.Ay <== Ay;
    chain.S <== S;
    chain.R8x <== R8x;
    chain.R8y <== R8y;
    chain.hasBefore <== hasBefore;
    chain.beforeSeq <== beforeSeq;
    chain.beforeTs <== beforeTs;
    chain.beforeValues <== beforeValues;
    chain.beforePrev <== beforePrev;
    chain.enabled <== enabled;
    chain.inside <== inside;
    chain.ts <== ts;
    chain.values <== values;

    // The epoch's start and length as the applet reads them (epoch = start * 2^32 + length, as ReadingsChain).
    component ebits = Num2Bits(80);
    ebits.in <== epoch;
    var len = 0;
    var start = 0;
    for (var b = 0; b < 32; b++) len += ebits.out[b] * (1 << b);
    for (var b = 32; b < 80; b++) start += ebits.out[b] * (1 << (b - 32));

    component claim = ${claim}(K);
    claim.inside <== inside;
    claim.ts <== ts;
    claim.values <== values;
    claim.epochStart <== start;
    claim.epochLength <== len;
    claim.seq0 <== 1 + hasBefore * beforeSeq;
${hasParam ? "    claim.param <== param;\n" : ""}${stateKeys ? "    claim.stateIn <== stateValues;\n" : ""}    claim.claimOutput === claimOutput;
${stateKeys ? "    claim.stateInHash === stateIn;\n    claim.stateOutHash === stateOut;\n" : ""}}

component main {public [${pub.join(", ")}]} = ${name}(${K});`;
}
