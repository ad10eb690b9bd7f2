// Child process for circuits/prover.ts: generates the witness and the Groth16 proof off the parent's event loop,
// reporting progress (snarkjs's own stages) and timings. Plain JS: starts without a TypeScript loader, unless the pool
// chose the native or Wasm prover (MFI_PROVER_NATIVE=1, started with the TypeScript loader): then each proof is made by
// circuits/native/checked-prove.ts, verified, and made by snarkjs instead if anything fails.
// Messages are handled one at a time in arrival order: a job sent while the process is still warming (self-check,
// reading keys: { warm: [zkey…] }) waits for the warm-up, then finds its key in memory.
// First, before the slow imports: a parent that disconnects (pool closed) while this process starts ends it.
process.on("disconnect", () => process.exit(0));
// The parent went away mid-reply: nothing left to do.
process.on("error", () => process.exit(0));

const { readFile, stat } = await import("node:fs/promises");
const snarkjs = await import("snarkjs");

const native = process.env.MFI_PROVER_NATIVE === "1" ? await import("./native/checked-prove.ts") : undefined;

const send = (m) => {
  try {
    process.send(m);
  } catch {
    // the parent is gone (closed pool, Ctrl-C): nothing to report to
  }
};
// Build the curve (Wasm + its worker threads) at start, not during the first proof; snarkjs reuses it.
const curve = snarkjs.curves.getCurveFromName("bn128");
// The circuits' witness calculators (.wasm bytes) by path, as the keys are: read once per process (again when the
// file changes).
const wasms = new Map();
const wasmOf = async (path) => {
  const st = await stat(path);
  const stamp = `${st.size}:${st.mtimeMs}`;
  let w = wasms.get(path);
  if (!w || w.stamp !== stamp) wasms.set(path, (w = { stamp, data: new Uint8Array(await readFile(path)) }));
  return { type: "mem", data: w.data };
};
const keyStats = () => native?.keyCacheStats() ?? { reads: 0, hits: 0, keys: 0, bytes: 0, budget: 0 };

async function warm(msg) {
  const t0 = performance.now();
  await curve;
  for (const w of msg.wasm ?? []) await wasmOf(w).catch(() => undefined);
  const r = native ? await native.warmKeys(msg.warm) : { backend: "snarkjs", loaded: [], skipped: msg.warm };
  send({ warmed: msg.warmId, ...r, cache: keyStats(), ms: performance.now() - t0 });
}

async function prove(msg) {
  await curve;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const reads0 = keyStats().reads;
  const stages = [];
  const stage = (name) => {
    stages.push([name, performance.now() - t0]);
    send({ id: msg.id, progress: name });
  };
  try {
    stage("witness");
    const wtns = { type: "mem" };
    await snarkjs.wtns.calculate(msg.input, await wasmOf(msg.wasm), wtns);
    const witnessMs = performance.now() - t0;
    stage("prove");
    const logger = {
      debug: (m) => (/^(Reading|Building|QAP|Multiexp|Construct)/.test(m) ? stage(m) : undefined),
      info() {},
      warn() {},
      error() {},
    };
    const checked = native ? await native.proveChecked(msg.zkey, wtns.data) : undefined;
    const { proof, publicSignals } =
      checked && checked.backend !== "snarkjs" ? checked : await snarkjs.groth16.prove(msg.zkey, wtns, logger);
    const cpu = process.cpuUsage(cpu0);
    send({
      id: msg.id,
      proof,
      publicSignals,
      backend: checked?.backend ?? "snarkjs",
      ...(checked?.backend === "snarkjs" ? { fallback: checked.reason } : {}),
      witnessMs,
      totalMs: performance.now() - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      stages,
      maxRssKb: process.resourceUsage().maxRSS,
      keyRead: keyStats().reads > reads0,
      cache: keyStats(),
    });
  } catch (err) {
    send({ id: msg.id, error: String((err && err.message) || err), cache: keyStats() });
  }
}

let busy = Promise.resolve();
process.on("message", (msg) => {
  busy = busy.then(() => (msg.warm ? warm(msg) : prove(msg))).catch(() => undefined);
});
send({ ready: true, backend: native ? "typescript" : "snarkjs" });
