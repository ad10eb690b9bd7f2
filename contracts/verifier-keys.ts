/**
 * Which Groth16 verifiers a deployment may use. contracts/generated/ holds the DEV verifiers: their keys come from a
 * public seed, so anyone recomputes δ and forges any proof (test/attacks/dev-keys.ts does it against DeviceRegistry).
 * They are deployed only to the local devnet (chain id 31337), or elsewhere with an explicit, loudly named opt-in;
 * every other chain gets the verifiers of a production build (build/circuits-prod/<circuit>/, written by
 * `npm run build:circuits -- --ptau <ceremony.ptau>`), compiled here with the contracts' solc settings, and the
 * deployment manifest records the sha256 of each zkey they were exported from.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, SETTINGS, type Artifact } from "./compile.ts";
import { ContractsError } from "./errors.ts";

const require = createRequire(import.meta.url);

/** The only chain dev verifiers go to without the opt-in: anvil's and hardhat's default local chain. */
export const DEV_KEYS_CHAIN_ID = 31337n;
export const DEV_KEYS_OPT_IN = "--dev-keys-i-know-they-are-insecure";
export const PROD_BUILD_DIR = join(ROOT, "build", "circuits-prod");

export class DevVerifiersRefusedError extends ContractsError {
  override name = "DevVerifiersRefusedError";
}

export interface ProductionVerifier {
  /** Circuit name, e.g. `register`, `readings_sum_16`. */
  name: string;
  artifact: Pick<Artifact, "abi" | "bytecode">;
  /** sha256 (hex) of the zkey the verifier was exported from. */
  zkeySha256: string;
}

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/**
 * The verifiers of a production build: every <dir>/<circuit>/ holding Groth16Verifier_<circuit>.sol and
 * <circuit>.zkey. Refuses a directory with none, or a verifier still marked as made from dev keys.
 */
export function loadProductionVerifiers(dir: string = PROD_BUILD_DIR): ProductionVerifier[] {
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter(
          (e) =>
            e.isDirectory() &&
            existsSync(join(dir, e.name, `Groth16Verifier_${e.name}.sol`)) &&
            existsSync(join(dir, e.name, `${e.name}.zkey`)),
        )
        .map((e) => e.name)
        .sort()
    : [];
  if (!names.length) {
    throw new DevVerifiersRefusedError(`no production verifiers in ${dir}`, {
      metaMessages: [
        'Build them from a ceremony ptau: `npm run build:circuits -- --ptau <powersOfTau…final.ptau>` (docs/circuits.md, "Production setup").',
      ],
    });
  }
  const sources: Record<string, { content: string }> = {};
  for (const n of names) {
    const content = readFileSync(join(dir, n, `Groth16Verifier_${n}.sol`), "utf8");
    if (/DEV KEYS/.test(content))
      throw new DevVerifiersRefusedError(`${join(dir, n)} holds a verifier made with the dev keys`, {
        metaMessages: ["Rebuild it with --ptau from a ceremony."],
      });
    sources[`${n}.sol`] = { content };
  }
  const solc = require("solc") as { compile(input: string): string };
  const out = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings: SETTINGS }))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Artifact["abi"]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length)
    throw new ContractsError(
      `solc failed on the production verifiers:\n${errors.map((e) => e.formattedMessage).join("\n")}`,
    );
  return names.map((n) => {
    const unit = Object.values(out.contracts?.[`${n}.sol`] ?? {})[0];
    if (!unit) throw new ContractsError(`${n}.sol compiled to no contract`);
    return {
      name: n,
      artifact: { abi: unit.abi, bytecode: `0x${unit.evm.bytecode.object}` },
      zkeySha256: sha256File(join(dir, n, `${n}.zkey`)),
    };
  });
}
