import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getArtifact } from "./artifacts.ts";
import { ROOT } from "./compile.ts";
import { codeHasVerifyingKey, type VerifyingKeyDelta } from "./verifier-match.ts";

// the dev verifiers compiled into the artifacts (creation code: it holds the deployed code) and the verification keys
// their build exported (npm run build)
const vkOf = (circuit: string) =>
  JSON.parse(
    readFileSync(join(ROOT, "build", "circuits", circuit, "verification_key.json"), "utf8"),
  ) as VerifyingKeyDelta;
const codeOf = (circuit: string) => getArtifact(`Groth16Verifier_${circuit}`).bytecode;

describe("codeHasVerifyingKey", () => {
  it("finds a verifier's own key in its deployed code", () => {
    for (const c of ["register", "readings_sum_16"]) expect(codeHasVerifyingKey(codeOf(c), vkOf(c))).toBe(true);
  });

  it("refuses another setup's key", () => {
    expect(codeHasVerifyingKey(codeOf("register"), vkOf("readings_sum_16"))).toBe(false);
    expect(codeHasVerifyingKey(codeOf("readings_sum_16"), vkOf("register"))).toBe(false);
  });

  it("refuses a key whose δ differs in one coordinate, and empty code", () => {
    const vk = vkOf("register");
    const other = structuredClone(vk);
    other.vk_delta_2[1]![1] = (BigInt(vk.vk_delta_2[1]![1]!) + 1n).toString();
    expect(codeHasVerifyingKey(codeOf("register"), other)).toBe(false);
    expect(codeHasVerifyingKey("0x", vk)).toBe(false);
  });
});
