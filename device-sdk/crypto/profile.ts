/**
 * CPU-time profile of the crypto module (process.cpuUsage, best of 7 runs, so a loaded machine inflates figures
 * less than wall-clock benches do): field multiplication, Poseidon permutations, verify, batch100, sign, and the
 * JS share of a batch. Run: node --import ./cli/register.mjs device-sdk/crypto/profile.ts (after npm run build).
 * Not a test and not the bench: `npm run bench -- crypto` gives the official ids.
 */
import { readFileSync } from "node:fs";
import { loadWasmBackend } from "./index.ts";
import type { VerifyItem } from "../eddsa-api.ts";
import { CryptoInstance, WASM_URL } from "./wasm.ts";
import { makeWasmBackend } from "./backend.ts";
const cpu = (f: () => void, n: number, reps = 7) => {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    best = Math.min(best, ((d.user + d.system) * 1000) / n);
  }
  return best;
};
const x: any = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM_URL)), {}).exports;
x.init();
const mul = cpu(() => x.probe_mul(500_000), 500_000),
  ml = cpu(() => x.probe_mul_lazy(500_000), 500_000),
  sq = cpu(() => x.probe_sqr(500_000), 500_000);
const p6 = cpu(() => x.probe_perm(6, 1000), 1000),
  p3 = cpu(() => x.probe_perm(3, 1000), 1000);
console.log(
  `mul ${mul.toFixed(1)} ns, mul_lazy ${ml.toFixed(1)}, sqr ${sq.toFixed(1)}; perm t=6 ${(p6 / 1000).toFixed(2)} us (= ${(p6 / mul).toFixed(0)} muls), t=3 ${(p3 / 1000).toFixed(2)} us`,
);
const w = await loadWasmBackend();
const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
const items: VerifyItem[] = Array.from({ length: 100 }, (_, i) => {
  const k = key.map((b) => b ^ i);
  const msg = 1000n + BigInt(i);
  return { msg, sig: w.sign(k, msg), publicKey: w.publicKey(k) };
});
const inputs = [1n, 2n, 3n, 4n, 5n].map((v) => v * 0x1234567890abcdefn);
const ps = cpu(() => {
  for (let i = 0; i < 2000; i++) w.poseidon(inputs);
}, 2000);
const v = cpu(() => {
  for (let i = 0; i < 300; i++) w.verify(items[i % 100]!);
}, 300);
const b = cpu(() => {
  for (let i = 0; i < 5; i++) w.verifyBatch(items);
}, 500);
const s = cpu(() => {
  for (let i = 0; i < 300; i++) w.sign(key, BigInt(i));
}, 300);
console.log(
  `poseidon5 ${(ps / 1000).toFixed(2)} us => ${(1e9 / ps).toFixed(0)}/s; verify ${(v / 1000).toFixed(1)} us => ${(1e9 / v).toFixed(0)}/s; batch100 ${(b / 1000).toFixed(1)} us/sig => ${(1e9 / b).toFixed(0)}/s (${(b / mul).toFixed(0)} muls); sign ${(s / 1000).toFixed(1)} us => ${(1e9 / s).toFixed(0)}/s`,
);
const ci = new CryptoInstance(new WebAssembly.Module(readFileSync(WASM_URL)));
const wb = makeWasmBackend(ci);
wb.verifyBatch(items);
const bw = cpu(() => {
  for (let i = 0; i < 5; i++) ci.x.verify_batch(100);
}, 500);
console.log(`wasm-only batch ${(bw / 1000).toFixed(1)} us/sig; JS overhead ${((b - bw) / 1000).toFixed(1)} us/sig`);
