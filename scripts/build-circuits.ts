/**
 * `npm run build:circuits [-- --circuits a,b] [--force] [--update-verifiers]`: compiles circuits/ with circom2, runs
 * the INSECURE dev trusted setup (public seed, deterministic) into build/circuits/, and checks the generated Solidity
 * verifiers against contracts/generated/ (writing missing ones; --update-verifiers overwrites changed ones).
 * Circuits: MFI_CIRCUITS or --circuits (comma-separated), default circuits/catalog.ts DEFAULT_CIRCUITS.
 * Production: `--ptau <ceremony.ptau>` also writes keys from that ptau plus a fresh random phase-2 contribution to
 * build/circuits-prod/ (pass it as buildDir to proveClaim/verifyReceipt); contracts/generated/ is left alone.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULT_CIRCUITS, buildCircuits, artifactsOf, prodSetup, ROOT } from "../circuits/index.ts";

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const listArg =
  argv.find((a) => a.startsWith("--circuits="))?.slice(11) ??
  (argv.includes("--circuits") ? argv[argv.indexOf("--circuits") + 1] : undefined);
const names = (listArg ?? process.env.MFI_CIRCUITS ?? DEFAULT_CIRCUITS.join(","))
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

const t0 = performance.now();
await buildCircuits(names, { force: flag("--force") });

const outDir = join(ROOT, "contracts", "generated");
mkdirSync(outDir, { recursive: true });
let stale = 0;
for (const name of names) {
  const fresh = readFileSync(artifactsOf(name).solidity, "utf8");
  const committed = join(outDir, `Groth16Verifier_${name}.sol`);
  if (!existsSync(committed) || flag("--update-verifiers")) writeFileSync(committed, fresh);
  else if (readFileSync(committed, "utf8") !== fresh) {
    stale++;
    console.error(
      `✗ contracts/generated/Groth16Verifier_${name}.sol differs from the freshly generated verifier: run \`npm run build:circuits -- --update-verifiers\` and commit it`,
    );
  }
}
const ptauIdx = argv.indexOf("--ptau");
if (ptauIdx >= 0) {
  const ptau = argv[ptauIdx + 1];
  if (!ptau || !existsSync(ptau)) {
    console.error(`--ptau needs the path of a prepared ceremony ptau file, got ${JSON.stringify(ptau)}`);
    process.exit(2);
  }
  const prodDir = join(ROOT, "build", "circuits-prod");
  for (const name of names) {
    const dev = artifactsOf(name);
    const prod = artifactsOf(name, prodDir);
    mkdirSync(prod.dir, { recursive: true });
    cpSync(dirname(dev.wasm), dirname(prod.wasm), { recursive: true });
    cpSync(dev.r1cs, prod.r1cs);
    console.error(`… ${name}: production keys from ${ptau} (snarkjs zkey new + one random contribution)`);
    await prodSetup({ name, ptau, files: prod });
  }
  console.error(
    `production keys in ${prodDir}: add independent contributions and a final beacon before real use (docs/circuits.md)`,
  );
}
console.error(`circuits ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (build/circuits/)`);
// snarkjs keeps its curve's worker threads alive; end explicitly.
process.exit(stale ? 1 : 0);
