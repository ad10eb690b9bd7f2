// Runs after `npm install` / `npm ci`: builds the precompiled `mfi` (build/cli/, so every command starts in a fraction
// of a second instead of compiling TypeScript), the example applets and the Wasm crypto (build/crypto/crypto.wasm, the
// fast EdDSA backend) and the native Groth16 prover (build/native/, g++), so a fresh clone verifies signatures and proves
// at full speed without another step.
// Never fails the install: a build problem is reported loudly and `npm test` / `npm start` rebuild anyway.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync("node_modules/tsx")) process.exit(0);
for (const [script, what] of [
  [
    "scripts/build-cli.mjs",
    "the precompiled CLI (`mfi` runs from TypeScript sources, seconds slower, until it is built)",
  ],
  [
    "scripts/build-crypto.ts",
    "the Wasm crypto (signatures fall back to the ~100× slower JS backend until it is built)",
  ],
  ["scripts/build-applets.ts", "the applets"],
  ["scripts/build-wasm-prover.ts", "the Wasm Groth16 prover (the portable backend when the native one does not build)"],
  [
    "scripts/build-native.mjs",
    "the native Groth16 prover (proving falls back to the Wasm prover or snarkjs, several times slower)",
  ],
]) {
  if (!existsSync(script)) continue;
  const r = spawnSync(process.execPath, ["--import", "./cli/register.mjs", script, "--quiet"], { stdio: "inherit" });
  if (r.status !== 0) console.warn(`⚠ machinefi: building ${what} failed; run \`npm run build\` to see why.`);
}
