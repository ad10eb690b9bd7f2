/**
 * `npm run build:circuits [-- --circuits a,b] [--force] [--update-verifiers]`: compiles circuits/ with circom2, runs
 * the INSECURE dev trusted setup (public seed, deterministic) into build/circuits/, and checks the generated Solidity
 * verifiers against contracts/generated/ (writing missing ones; --update-verifiers overwrites changed ones).
 * Circuits: MFI_CIRCUITS or --circuits (comma-separated), default circuits/catalog.ts DEFAULT_CIRCUITS.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CIRCUITS } from "../circuits/catalog.ts";
import { buildCircuits, artifactsOf, ROOT } from "../circuits/setup/build.ts";

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const listArg = argv.find((a) => a.startsWith("--circuits="))?.slice(11) ?? (argv.includes("--circuits") ? argv[argv.indexOf("--circuits") + 1] : undefined);
const names = (listArg ?? process.env.MFI_CIRCUITS ?? DEFAULT_CIRCUITS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);

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
    console.error(`✗ contracts/generated/Groth16Verifier_${name}.sol differs from the freshly generated verifier: run \`npm run build:circuits -- --update-verifiers\` and commit it`);
  }
}
console.error(`circuits ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (build/circuits/)`);
// snarkjs keeps its curve's worker threads alive; end explicitly.
process.exit(stale ? 1 : 0);
