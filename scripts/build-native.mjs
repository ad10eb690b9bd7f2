// Builds the native Groth16 prover (circuits/native/*.cc → build/native/mfi_prover.node) with the system's g++ and
// Node's own headers. Best effort, always exits 0: without it proving uses the Wasm prover or snarkjs (circuits/native/loader.ts says
// why). Cached by a hash of the sources and the Node version. `--quiet` prints only a failure.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "circuits", "native");
const outDir = join(root, "build", "native");
const out = join(outDir, "mfi_prover.node");
const stamp = join(outDir, "mfi_prover.hash");
const quiet = process.argv.includes("--quiet");
const cxx = process.env.CXX || "g++";

let tmp = "";
function warn(msg) {
  if (tmp) rmSync(tmp, { force: true });
  console.warn(
    `⚠ machinefi: the native prover was not built (${msg}); proving uses the Wasm prover or snarkjs (slower).`,
  );
  process.exit(0);
}

const sources = readdirSync(src)
  .filter((f) => /\.(cc|h)$/.test(f))
  .sort();
const hash = createHash("sha256").update(process.version).update(cxx);
for (const f of sources) hash.update(f).update(readFileSync(join(src, f)));
const digest = hash.digest("hex");
if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) process.exit(0);

// Node's headers: beside the binary (official tarballs, distro packages), else node-gyp's download cache.
const candidates = [
  join(dirname(process.execPath), "..", "include", "node"),
  join(process.env.HOME ?? "", ".cache", "node-gyp", process.versions.node, "include", "node"),
];
const include = candidates.find((d) => existsSync(join(d, "node_api.h")));
if (!include) warn("Node's headers (node_api.h) were not found");

mkdirSync(outDir, { recursive: true });
tmp = `${out}.${process.pid}.tmp`;
const args = ["-O3", "-std=c++17", "-shared", "-fPIC", "-pthread", `-I${include}`, "-o", tmp];
args.push(...sources.filter((f) => f.endsWith(".cc")).map((f) => join(src, f)));
if (!quiet) console.log(`building the native prover: ${cxx} ${args.join(" ")}`);
const r = spawnSync(cxx, args, { stdio: ["ignore", "inherit", "inherit"] });
if (r.error) warn(`${cxx} could not run: ${r.error.message}`);
if (r.status !== 0) warn(`${cxx} exited with ${r.status}`);
renameSync(tmp, out);
writeFileSync(stamp, digest);
if (!quiet) console.log(`native prover: ${out}`);
