/** Loads build/contracts/artifacts.json (written by scripts/build-contracts.ts) lazily, with a helpful error. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_DIR, type Artifact, type ArtifactsFile } from "./compile.ts";
import { ContractsEnvironmentError } from "./errors.ts";

let cached: ArtifactsFile | undefined;

export function loadArtifacts(): ArtifactsFile {
  if (cached) return cached;
  const file = join(BUILD_DIR, "artifacts.json");
  if (!existsSync(file)) {
    throw new ContractsEnvironmentError(`contract artifacts are missing (${file})`, {
      metaMessages: ["Run `npm run build` (or `npx tsx scripts/build-contracts.ts`) to compile the contracts."],
      docsPath: "docs/contracts.md#build",
    });
  }
  cached = JSON.parse(readFileSync(file, "utf8")) as ArtifactsFile;
  return cached;
}

export function getArtifact(name: string): Artifact {
  const a = loadArtifacts().contracts[name];
  if (!a) {
    throw new ContractsEnvironmentError(`no compiled contract named ${name}`, {
      metaMessages: [`Known: ${Object.keys(loadArtifacts().contracts).join(", ")}`, "Rebuild with `npm run build`."],
    });
  }
  return a;
}

/** Names of the generated Groth16 verifiers that were compiled (e.g. `readings_sum_16`, `register`). */
export function generatedVerifierNames(): string[] {
  return Object.keys(loadArtifacts().contracts)
    .filter((n) => n.startsWith("Groth16Verifier_"))
    .map((n) => n.slice("Groth16Verifier_".length))
    .sort();
}

/** Forget the cached artifacts (after a rebuild in the same process). */
export function resetArtifactsCache(): void {
  cached = undefined;
}
