/**
 * `npm run build`: every build step a fresh clone needs, in order, each cached by its own script.
 * Steps are separate scripts so each layer owns its build; a missing script is skipped.
 * `--mock-proofs` (what `npm start -- --mock-proofs` runs) skips what mock proofs never use: the generic circuits'
 * trusted setup and the native and Wasm Groth16 provers; the applet circuits step then builds witness calculators only.
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const steps = [
  "build-cli.mjs",
  "build-applets.ts",
  "build-crypto.ts",
  "build-wasm-prover.ts",
  "build-native.mjs",
  "build-contracts.ts",
  "build-circuits.ts",
  "build-applet-circuits.ts",
];
const MOCK_SKIPS: Record<string, string> = {
  "build-wasm-prover.ts": "the Wasm Groth16 prover",
  "build-native.mjs": "the native Groth16 prover",
  "build-circuits.ts": "the generic circuits' trusted setup",
};
const mock = process.argv.includes("--mock-proofs");
for (const s of steps) {
  const file = join(root, "scripts", s);
  if (!existsSync(file)) continue;
  if (mock && MOCK_SKIPS[s]) {
    console.log(`build: skipped ${s}: ${MOCK_SKIPS[s]} (mock proofs need no keys)`);
    continue;
  }
  const r = spawnSync(
    process.execPath,
    ["--import", join(root, "cli", "register.mjs"), file, ...process.argv.slice(2)],
    { stdio: "inherit", cwd: root },
  );
  if (r.status !== 0) {
    console.error(`build step ${s} failed (exit ${r.status}); fix it and run \`npm run build\` again.`);
    process.exit(r.status ?? 1);
  }
}
