// Child process for circuits/prover.ts: generates the witness and the Groth16 proof off the parent's event loop,
// reporting progress (snarkjs's own stages) and timings. Plain JS: starts without a TypeScript loader, unless the pool
// chose the native or Wasm prover (MFI_PROVER_NATIVE=1, started with the TypeScript loader): then each proof is made by
// circuits/native/checked-prove.ts, verified, and made by snarkjs instead if anything fails.
// Messages are handled one at a time: a job sent while the process is still warming (self-check, reading keys and
// compiling witness modules: { warm: [{ zkey, wasm }…] }) waits for the circuit being warmed, then runs before the
// rest of the warm-up.
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
// file changes). A warmed circuit's module is also compiled ahead (the process runs with --no-liftoff and eager
// compilation: optimised code, 4-6x faster witnesses than Liftoff's) and kept, so V8's module cache gives every
// proof's WebAssembly.compile of the same bytes that code at once.
const wasms = new Map();
const wasmOf = async (path) => {
  const st = await stat(path);
  const stamp = `${st.size}:${st.mtimeMs}`;
  let w = wasms.get(path);
  if (!w || w.stamp !== stamp) wasms.set(path, (w = { stamp, data: new Uint8Array(await readFile(path)) }));
  return w;
};
const keyStats = () => native?.keyCacheStats() ?? { reads: 0, hits: 0, keys: 0, bytes: 0, budget: 0 };
// Without a key cache (snarkjs backend) only this many circuits' witness modules are compiled ahead.
const SNARKJS_WARM_CIRCUITS = 4;

/** One circuit of a warm-up: its key into the cache if it fits, then its witness module compiled. */
async function warmOne(item, report) {
  const r = native ? await native.warmKeys([item.zkey]) : { backend: "snarkjs", loaded: [], skipped: [item.zkey] };
  report.backend = r.backend;
  report.loaded.push(...r.loaded);
  report.skipped.push(...r.skipped);
  const compile = r.loaded.length > 0 || (r.backend === "snarkjs" && report.compiled < SNARKJS_WARM_CIRCUITS);
  if (compile && item.wasm) {
    try {
      const w = await wasmOf(item.wasm);
      w.module ??= await WebAssembly.compile(w.data);
      report.compiled++;
    } catch {
      // unreadable now: the proof that needs it reports why
    }
  }
  // Once per process, a throw-away run of the proving path (witness calculator on an empty input, which it refuses
  // after instantiating; a zero-witness proof and its verification): the first real proof then runs warm code.
  if (!dryRunDone && r.loaded.length) {
    dryRunDone = true;
    const t = performance.now();
    if (item.wasm)
      await snarkjs.wtns
        .calculate({}, { type: "mem", data: (await wasmOf(item.wasm)).data }, { type: "mem" })
        .catch(() => undefined);
    await native?.dryRun(item.zkey).catch(() => undefined);
    report.dryRunMs = performance.now() - t;
  }
}
let dryRunDone = false;

// Jobs before warm-up work: a warm-up is done one circuit at a time, and a job that arrives meanwhile runs next.
const jobs = [];
const warmups = [];
let running = false;
async function drain() {
  if (running) return;
  running = true;
  try {
    while (jobs.length || warmups.length) {
      if (jobs.length) {
        await prove(jobs.shift());
        continue;
      }
      const w = warmups[0];
      if (!w.started) {
        w.started = true;
        await curve;
        if (native) w.report.backend = (await native.warmKeys([])).backend;
      }
      const item = w.items.shift();
      if (item) await warmOne(item, w.report);
      if (!w.items.length) {
        warmups.shift();
        send({
          warmed: w.warmId,
          ...w.report,
          compiled: [...wasms.values()].filter((x) => x.module).length,
          cache: keyStats(),
          ms: performance.now() - w.t0,
        });
      }
    }
  } finally {
    running = false;
  }
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
    await snarkjs.wtns.calculate(msg.input, { type: "mem", data: (await wasmOf(msg.wasm)).data }, wtns);
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

process.on("message", (msg) => {
  if (msg.warm)
    warmups.push({
      warmId: msg.warmId,
      items: [...msg.warm],
      t0: performance.now(),
      started: false,
      report: { backend: "snarkjs", loaded: [], skipped: [], compiled: 0 },
    });
  else jobs.push(msg);
  drain().catch(() => undefined);
});
send({ ready: true, backend: native ? "typescript" : "snarkjs" });
