/**
 * Compiles contracts/src, contracts/generated and contracts/examples with solc-js (standard JSON) into build/contracts/.
 * Output is cached by a hash of every source, the compiler version and the settings: solc-js takes seconds.
 * Writes artifacts.json (ABI, bytecode, NatSpec error notices per contract) and abis.ts (typed `as const` ABIs).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ContractsError } from "./errors.ts";

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD_DIR = join(ROOT, "build", "contracts");
/** Pinned so bytecode runs on IoTeX (Shanghai EVM) and any newer chain. */
export const EVM_VERSION = "shanghai";
export const SETTINGS = {
  optimizer: { enabled: true, runs: 100_000 },
  viaIR: true,
  evmVersion: EVM_VERSION,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "userdoc"] } },
};

export interface Artifact {
  contractName: string;
  sourceName: string;
  abi: readonly Record<string, unknown>[];
  bytecode: `0x${string}`;
  deployedSize: number;
  /** Error signature → NatSpec @notice, so clients can show the contract's own words. */
  errorNotices: Record<string, string>;
}
export interface ArtifactsFile {
  solcVersion: string;
  evmVersion: string;
  sourceHash: string;
  contracts: Record<string, Artifact>;
}

function solFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? solFiles(join(dir, e.name)) : e.name.endsWith(".sol") ? [join(dir, e.name)] : [],
  );
}

/** Source units keyed as solc sees them (paths relative to the repo root). */
export function collectSources(): Record<string, { content: string }> {
  // examples/ are consumers other dApps could write (built and tested here so they keep compiling against the vault)
  const files = ["src", "generated", "examples"].flatMap((d) => solFiles(join(ROOT, "contracts", d))).sort();
  return Object.fromEntries(files.map((f) => [relative(ROOT, f), { content: readFileSync(f, "utf8") }]));
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), "utf8") };
  } catch {
    const local = join(ROOT, path);
    if (existsSync(local)) return { contents: readFileSync(local, "utf8") };
    return { error: `import not found: ${path} (is @openzeppelin/contracts installed? run npm ci)` };
  }
}

/** Generated verifiers all declare `contract Groth16Verifier`; they are named after their file instead. */
function artifactName(sourceName: string, contractName: string): string {
  return sourceName.startsWith("contracts/generated/") ? basename(sourceName, ".sol") : contractName;
}

export class ContractsBuildError extends ContractsError {
  override name = "ContractsBuildError";
}

type SolcOutput = {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<
      string,
      {
        abi: Artifact["abi"];
        evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
        userdoc?: { errors?: Record<string, { notice?: string }[]> };
      }
    >
  >;
};

/** solc's standard JSON output for these sources with the project's settings; a compile error is a ContractsBuildError. */
export function compileSources(sources: Record<string, { content: string }>): SolcOutput {
  const solc = require("solc") as { compile(input: string, cb: { import: typeof findImport }): string };
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new ContractsBuildError(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  return out;
}

/** Compiles (or returns the cached build). `force` ignores the cache. */
export function buildContracts(opts: { force?: boolean; log?: (m: string) => void } = {}): ArtifactsFile {
  const log = opts.log ?? (() => {});
  const solc = require("solc") as {
    version(): string;
    compile(input: string, cb: { import: typeof findImport }): string;
  };
  const sources = collectSources();
  const ozVersion = (require("@openzeppelin/contracts/package.json") as { version: string }).version;
  const hash = createHash("sha256")
    .update(JSON.stringify({ v: solc.version(), oz: ozVersion, SETTINGS, sources }))
    .digest("hex");
  const outFile = join(BUILD_DIR, "artifacts.json");
  if (!opts.force && existsSync(outFile)) {
    const cached = JSON.parse(readFileSync(outFile, "utf8")) as ArtifactsFile;
    if (cached.sourceHash === hash) {
      log(`contracts: up to date (${Object.keys(cached.contracts).length} contracts, hash ${hash.slice(0, 12)})`);
      return cached;
    }
  }
  const t0 = Date.now();
  const out = compileSources(sources);
  for (const w of out.errors ?? [])
    if (w.severity !== "error" && !w.formattedMessage.includes("node_modules")) log(w.formattedMessage.trim());
  const contracts: Record<string, Artifact> = {};
  for (const [sourceName, units] of Object.entries(out.contracts ?? {})) {
    if (!sourceName.startsWith("contracts/")) continue;
    for (const [contractName, c] of Object.entries(units)) {
      const name = artifactName(sourceName, contractName);
      const errorNotices: Record<string, string> = {};
      for (const [sig, docs] of Object.entries(c.userdoc?.errors ?? {}))
        if (docs[0]?.notice) errorNotices[sig] = docs[0].notice;
      contracts[name] = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedSize: c.evm.deployedBytecode.object.length / 2,
        errorNotices,
      };
    }
  }
  const file: ArtifactsFile = { solcVersion: solc.version(), evmVersion: EVM_VERSION, sourceHash: hash, contracts };
  mkdirSync(BUILD_DIR, { recursive: true });
  // write-then-rename: a reader (another test worker) never sees a half-written file
  const put = (path: string, text: string) => {
    writeFileSync(`${path}.${process.pid}.tmp`, text);
    renameSync(`${path}.${process.pid}.tmp`, path);
  };
  put(join(BUILD_DIR, "abis.ts"), renderAbis(file));
  put(outFile, JSON.stringify(file, null, 1) + "\n");
  log(
    `contracts: compiled ${Object.keys(contracts).length} contracts with solc ${solc.version()} in ${Date.now() - t0} ms`,
  );
  return file;
}

function renderAbis(file: ArtifactsFile): string {
  const lines = [
    `// Generated by scripts/build-contracts.ts (contracts/compile.ts) from contracts/src, contracts/generated and contracts/examples. Do not edit.`,
    `// solc ${file.solcVersion}, evmVersion ${file.evmVersion}, source hash ${file.sourceHash}`,
    "",
  ];
  for (const [name, a] of Object.entries(file.contracts)) {
    lines.push(`export const ${name}Abi = ${JSON.stringify(a.abi)} as const;`);
    if (a.bytecode.length > 2) lines.push(`export const ${name}Bytecode = "${a.bytecode}" as const;`);
  }
  return lines.join("\n") + "\n";
}
