/**
 * Builds the EdDSA-Poseidon / Poseidon Wasm module (device-sdk/crypto/) into build/crypto/crypto.wasm.
 * Generates the field arithmetic and constants (device-sdk/crypto/codegen.ts, constants from circomlibjs), copies the
 * hand-written AssemblyScript beside them and runs asc. Cached by a hash of every input; `--force` rebuilds.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FL_LAYOUT, FP_LAYOUT, HEADER, L, P, genField, genPoseidon } from "../device-sdk/crypto/codegen.ts";
import { genCurve } from "../device-sdk/crypto/codegen-curve.ts";
import { genTorsion } from "../device-sdk/crypto/codegen-torsion.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(root, "device-sdk", "crypto", "assembly");
const out = join(root, "build", "crypto");
const gen = join(out, "src");
const wasmFile = join(out, "crypto.wasm");
const stampFile = join(out, "crypto.hash");

const require = createRequire(import.meta.url);
// circomlibjs does not export its src/ folder; find the package root through its main entry.
const circomlibjsRoot = dirname(dirname(require.resolve("circomlibjs")));
const constantsFile = join(circomlibjsRoot, "src", "poseidon_constants_opt.json");

const inputs = [
  ...readdirSync(srcDir)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => join(srcDir, f)),
  join(root, "device-sdk", "crypto", "codegen.ts"),
  join(root, "device-sdk", "crypto", "codegen-torsion.ts"),
  join(root, "device-sdk", "crypto", "codegen-curve.ts"),
  join(root, "device-sdk", "crypto", "asconfig.json"),
  fileURLToPath(import.meta.url),
  constantsFile,
];
const hash = createHash("sha256");
for (const f of inputs) hash.update(f.slice(root.length)).update(readFileSync(f));
hash.update(require("assemblyscript/package.json").version as string);
const digest = hash.digest("hex");

const force = process.argv.includes("--force");
if (!force && existsSync(wasmFile) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === digest) {
  console.log("build-crypto: build/crypto/crypto.wasm is up to date");
  process.exit(0);
}

const t0 = Date.now();
rmSync(gen, { recursive: true, force: true });
mkdirSync(join(gen, "generated"), { recursive: true });
for (const f of readdirSync(srcDir).filter((f) => f.endsWith(".ts"))) copyFileSync(join(srcDir, f), join(gen, f));
writeFileSync(join(gen, "generated", "fp.ts"), HEADER + genField("fp", P, FP_LAYOUT));
writeFileSync(join(gen, "generated", "fl.ts"), HEADER + genField("fl", L, FL_LAYOUT));
writeFileSync(join(gen, "generated", "curve.ts"), HEADER + genCurve());
writeFileSync(join(gen, "generated", "torsion.ts"), HEADER + genTorsion());
writeFileSync(
  join(gen, "generated", "poseidon.ts"),
  HEADER + genPoseidon(JSON.parse(readFileSync(constantsFile, "utf8"))),
);

const asc = (await import("assemblyscript/asc")).default;
const args = [
  join(gen, "index.ts"),
  "--outFile",
  wasmFile,
  "--textFile",
  join(out, "crypto.wat"),
  // Our own config, so asc does not pick up the repository's asconfig.json (that one is for applets).
  "--config",
  join(root, "device-sdk", "crypto", "asconfig.json"),
];
const { error, stderr } = await asc.main(args, {});
if (error) {
  console.error(stderr.toString());
  console.error(`build-crypto: asc failed (${error.message}); the generated sources are in ${gen}`);
  process.exit(1);
}
writeFileSync(stampFile, digest);
console.log(`build-crypto: built build/crypto/crypto.wasm in ${Date.now() - t0} ms`);
