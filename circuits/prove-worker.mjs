// Child process for circuits/prover.ts: generates the witness and the Groth16 proof off the parent's event loop,
// reporting progress (snarkjs's own stages) and timings. Plain JS: starts without a TypeScript loader, unless the pool
// chose the native or Wasm prover (MFI_PROVER_NATIVE=1, started with the TypeScript loader): then each proof is made by
// circuits/native/checked-prove.ts, verified, and made by snarkjs instead if anything fails.
import * as snarkjs from "snarkjs";

const native = process.env.MFI_PROVER_NATIVE === "1" ? await import("./native/checked-prove.ts") : undefined;

const send = (m) => process.send(m);
// Build the curve (Wasm + its worker threads) at start, not during the first proof; snarkjs reuses it.
const warm = snarkjs.curves.getCurveFromName("bn128");

process.on("message", async (msg) => {
  await warm;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const stages = [];
  const stage = (name) => {
    stages.push([name, performance.now() - t0]);
    send({ id: msg.id, progress: name });
  };
  try {
    stage("witness");
    const wtns = { type: "mem" };
    await snarkjs.wtns.calculate(msg.input, msg.wasm, wtns);
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
    });
  } catch (err) {
    send({ id: msg.id, error: String((err && err.message) || err) });
  }
});
process.on("disconnect", () => process.exit(0));
// The parent went away mid-reply: nothing left to do.
process.on("error", () => process.exit(0));
send({ ready: true });
