/**
 * Builds the Wasm Groth16 prover (circuits/wasm-prover/, the portable backend when the native addon did not build)
 * into build/wasm-prover/prover.wasm: generates the field and curve arithmetic (circuits/wasm-prover/codegen.ts, on
 * the device SDK's field generator), copies the hand-written AssemblyScript beside it and runs asc. Cached by a hash
 * of every input; `--force` rebuilds.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FE, genCurve, genProverField } from "../circuits/wasm-prover/codegen.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(root, "circuits", "wasm-prover", "assembly");
const out = join(root, "build", "wasm-prover");
const gen = join(out, "src");
const wasmFile = join(out, "prover.wasm");
const stampFile = join(out, "prover.hash");
const quiet = process.argv.includes("--quiet");

const inputs = [
  ...readdirSync(srcDir)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => join(srcDir, f)),
  join(root, "circuits", "wasm-prover", "codegen.ts"),
  join(root, "device-sdk", "crypto", "codegen.ts"),
  join(root, "device-sdk", "crypto", "asconfig.json"),
  fileURLToPath(import.meta.url),
];
const hash = createHash("sha256");
for (const f of inputs) hash.update(f.slice(root.length)).update(readFileSync(f));
hash.update(createRequire(import.meta.url)("assemblyscript/package.json").version as string);
const digest = hash.digest("hex");

if (
  !process.argv.includes("--force") &&
  existsSync(wasmFile) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, "utf8") === digest
) {
  if (!quiet) console.log("build-wasm-prover: build/wasm-prover/prover.wasm is up to date");
  process.exit(0);
}

const t0 = Date.now();
rmSync(gen, { recursive: true, force: true });
mkdirSync(join(gen, "generated"), { recursive: true });
for (const f of readdirSync(srcDir).filter((f) => f.endsWith(".ts"))) copyFileSync(join(srcDir, f), join(gen, f));
writeFileSync(join(gen, "generated", "fq.ts"), genProverField("fq"));
writeFileSync(join(gen, "generated", "fr.ts"), genProverField("fr"));
writeFileSync(join(gen, "generated", "g1.ts"), genCurve("g1", "fq", FE));
writeFileSync(join(gen, "generated", "g2.ts"), genCurve("g2", "fq2", 2 * FE));

const asc = (await import("assemblyscript/asc")).default;
const { error, stderr } = await asc.main(
  [
    join(gen, "index.ts"),
    "--outFile",
    wasmFile,
    // The device SDK's options (stub runtime, -O3, no asserts); not the repository's asconfig.json (applets').
    "--config",
    join(root, "device-sdk", "crypto", "asconfig.json"),
    "--initialMemory",
    "64",
  ],
  {},
);
if (error) {
  console.error(stderr.toString());
  console.error(`build-wasm-prover: asc failed (${error.message}); the generated sources are in ${gen}`);
  process.exit(1);
}
writeFileSync(stampFile, digest);
if (!quiet) console.log(`build-wasm-prover: built build/wasm-prover/prover.wasm in ${Date.now() - t0} ms`);
