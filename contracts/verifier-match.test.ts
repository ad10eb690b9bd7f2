import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getArtifact } from "./artifacts.ts";
import { ROOT } from "./compile.ts";
import { codeHasVerifyingKey, type VerifyingKeyPoints } from "./verifier-match.ts";

// the dev verifiers compiled into the artifacts (creation code: it holds the deployed code) and the verification keys
// their build exported (npm run build)
const vkOf = (circuit: string) =>
  JSON.parse(
    readFileSync(join(ROOT, "build", "circuits", circuit, "verification_key.json"), "utf8"),
  ) as VerifyingKeyPoints;
const codeOf = (circuit: string) => getArtifact(`Groth16Verifier_${circuit}`).bytecode;

describe("codeHasVerifyingKey", () => {
  it("finds a verifier's own key in its deployed code", () => {
    for (const c of ["register", "readings_sum_16"]) expect(codeHasVerifyingKey(codeOf(c), vkOf(c))).toBe(true);
  });

  it("refuses another circuit's key", () => {
    expect(codeHasVerifyingKey(codeOf("register"), vkOf("readings_sum_16"))).toBe(false);
    expect(codeHasVerifyingKey(codeOf("readings_sum_16"), vkOf("register"))).toBe(false);
  });

  it("refuses the same name's key with other IC points (dev keys share δ by name: circom's O1 vs O2 build)", () => {
    const vk = vkOf("readings_sum_16");
    const o1 = structuredClone(vk);
    o1.IC[1]![0] = (BigInt(vk.IC[1]![0]!) + 1n).toString();
    expect(codeHasVerifyingKey(codeOf("readings_sum_16"), o1)).toBe(false);
    const delta = structuredClone(vk);
    delta.vk_delta_2[1]![1] = (BigInt(vk.vk_delta_2[1]![1]!) + 1n).toString();
    expect(codeHasVerifyingKey(codeOf("readings_sum_16"), delta)).toBe(false);
    expect(codeHasVerifyingKey("0x", vk)).toBe(false);
  });

  it("reads a coordinate with leading zero bytes as solc pushes it (PUSH31 of 31 bytes)", () => {
    const small = (1n << 247n) + 12345n; // 31 bytes
    const big = (1n << 253n) + 777n;
    const hex = (v: bigint) => v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), "0");
    const vk: VerifyingKeyPoints = {
      vk_delta_2: [
        [small.toString(), big.toString()],
        [big.toString(), big.toString()],
      ],
      IC: [[big.toString(), big.toString(), "1"]],
    };
    const code = "0x" + "7e" + hex(small) + "7f" + hex(big);
    expect(hex(small)).toHaveLength(62);
    expect(codeHasVerifyingKey(code, vk)).toBe(true);
    // the same bytes pushed as 32 (a leading zero byte) are not what solc emits: not a match
    expect(codeHasVerifyingKey("0x7f00" + hex(small) + "7f" + hex(big), vk)).toBe(false);
  });
});
