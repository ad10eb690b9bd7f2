/**
 * `npm run build` step: each example applet's own circuits (circuits/compile) for every K the worker proves with
 * (APPLET_SIZES), their DEV keys (cached under build/applet-circuits/ by content hash) and their Solidity verifiers'
 * bytecode (cached under build/contracts/verifiers/), so the devnet, `mfi prove` and the tests find them built. An
 * applet the compiler cannot express yet is listed and skipped (the devnet skips it the same way).
 * With --mock-proofs (`npm start -- --mock-proofs`) only the witness calculator of each applet's smallest circuit is
 * built (circom2, no trusted setup, no verifier): that is all a mock proof computes, and the default devnet's epochs
 * fit K = 16. A larger K (a claim with more slots) is compiled by the worker on first use, with a line saying so: at
 * K = 64 circom2 takes about four times as long as at 16, minutes on a loaded machine.
 * Usage: node --import ./cli/register.mjs scripts/build-applet-circuits.ts [--applets energy-sum,threshold-alert]
 *   [--mock-proofs]
 */
import { readFileSync } from "node:fs";
import { APPLET_SIZES, NotProvableError, setupAppletCircuit, witnessBuild } from "../circuits/index.ts";
import { compileVerifier } from "../contracts/index.ts";
import { listApplets } from "../toolchain/index.ts";

// `npm run build` passes its own arguments to every step: only --applets <a,b> is this step's.
const at = process.argv.indexOf("--applets");
const names = at < 0 ? [] : (process.argv[at + 1] ?? "").split(",").filter(Boolean);
const mock = process.argv.includes("--mock-proofs");
const t0 = performance.now();
const sizes = mock ? APPLET_SIZES.slice(0, 1) : APPLET_SIZES;
if (mock)
  console.log(
    `applet circuits: witness calculators at K=${sizes[0]} only (mock proofs: no trusted setup, no keys; K=${APPLET_SIZES.slice(1).join(", ")} on first use)`,
  );
for (const a of listApplets()) {
  if (names.length && !names.includes(a.name)) continue;
  const wasm = new Uint8Array(readFileSync(a.wasmPath));
  for (const k of sizes) {
    try {
      if (mock) {
        const t = performance.now();
        await witnessBuild(wasm, k, a.manifest.param !== undefined, console.log);
        console.log(`✓ ${a.name} K=${k}: witness calculator (${((performance.now() - t) / 1000).toFixed(1)} s)`);
        continue;
      }
      // stateful: as the devnet and the worker compile (a stateless applet's circuit is the same either way), so a
      // stateful applet's circuits (uptime-streak) are built here, not at a devnet's or a test's first claim.
      const c = await setupAppletCircuit({
        wasm,
        k,
        hasParam: a.manifest.param !== undefined,
        stateful: true,
        log: console.log,
      });
      compileVerifier({ name: c.name, solidity: readFileSync(c.solidity, "utf8") });
    } catch (err) {
      if (!(err instanceof NotProvableError)) {
        console.error(`build-applet-circuits: ${a.name} at K=${k}: ${(err as Error).message}`);
        process.exit(1);
      }
      console.log(`⚠ ${a.name}: not provable yet, no circuit (${err.shortMessage})`);
      break;
    }
  }
}
console.log(
  `applet circuits${mock ? " (witness only)" : ""} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
// snarkjs keeps its curve's worker threads alive after a setup (and so does the esbuild service tsx started): end
// explicitly, or `npm run build` waits forever on a fresh clone (a cached build never starts them).
process.exit(0);
