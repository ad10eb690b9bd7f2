/**
 * Groth16 verifiers that are not part of the contracts build: a compiled applet's verifier is generated per (applet,
 * K) by circuits/compile (snarkjs's Solidity export, the same template as contracts/generated/), so it is compiled
 * here on demand with the project's solc settings and deployed next to the registries. solc takes ~7 s per verifier:
 * the bytecode is cached under build/contracts/verifiers/ by a hash of the source, the compiler and the settings.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ContractFactory, type Wallet } from "ethers";
import { BUILD_DIR, SETTINGS, compileSources } from "./compile.ts";
import { ContractsError } from "./errors.ts";

const require = createRequire(import.meta.url);
export const VERIFIERS_BUILD_DIR = join(BUILD_DIR, "verifiers");

export interface VerifierSource {
  /** The circuit's name, e.g. `applet_ebd0cc83a56a5161_k16` (the contract is `Groth16Verifier_<name>`). */
  name: string;
  /** Solidity text of snarkjs's Groth16 verifier for the circuit (AppletCircuit.solidity's content). */
  solidity: string;
}

export interface CompiledVerifier {
  contractName: string;
  abi: readonly unknown[];
  bytecode: string;
}

/** Compiles one generated verifier (or returns the cached bytecode for the same source, solc and settings). */
export function compileVerifier(v: VerifierSource): CompiledVerifier {
  const contractName = `Groth16Verifier_${v.name}`;
  if (!/^\w+$/.test(v.name) || !v.solidity.includes(`contract ${contractName}`))
    throw new ContractsError(`verifier source for ${v.name} does not declare contract ${contractName}`, {
      metaMessages: ["Pass the Solidity file circuits/compile's setupAppletCircuit wrote for this circuit."],
    });
  const solc = require("solc") as { version(): string };
  const hash = createHash("sha256")
    .update(JSON.stringify({ v: solc.version(), SETTINGS, source: v.solidity }))
    .digest("hex");
  const file = join(VERIFIERS_BUILD_DIR, `${contractName}.${hash.slice(0, 16)}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as CompiledVerifier;
  const sourceName = `build/contracts/verifiers/${contractName}.sol`;
  const out = compileSources({ [sourceName]: { content: v.solidity } });
  const c = out.contracts?.[sourceName]?.[contractName];
  if (!c) throw new ContractsError(`solc produced no ${contractName}`);
  const compiled: CompiledVerifier = { contractName, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  mkdirSync(VERIFIERS_BUILD_DIR, { recursive: true });
  // write-then-rename: another test process compiling the same verifier never reads half a file
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(compiled) + "\n");
  renameSync(`${file}.${process.pid}.tmp`, file);
  return compiled;
}

/** Compiles (cached) and deploys one generated verifier; returns its address. */
export async function deployVerifier(wallet: Wallet, v: VerifierSource): Promise<string> {
  const art = compileVerifier(v);
  const c = await new ContractFactory(art.abi as never, art.bytecode, wallet).deploy();
  await c.waitForDeployment();
  return c.getAddress();
}
