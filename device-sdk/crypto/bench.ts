/**
 * `npm run bench crypto` → build/bench/crypto.json. Each Wasm number sits beside the JS library measured in the same
 * run (circomlibjs for EdDSA, poseidon-lite for Poseidon), so the ratios hold on any machine. One core, one thread.
 */
import { poseidon5 } from "poseidon-lite";
import type { Bench, BenchResult } from "../../core/index.ts";
import { opsPerSecond } from "../../core/index.ts";
import { buildJsBackend } from "../eddsa-js.ts";
import type { VerifyItem } from "../eddsa-api.ts";
import { loadWasmBackend } from "./index.ts";

const bench: Bench = {
  name: "crypto",
  async run(log) {
    const wasm = await loadWasmBackend();
    const js = await buildJsBackend();
    const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
    const publicKey = wasm.publicKey(key);
    // 100 different keys: the worst case for batching (same-key batches share one 8A term and run faster).
    const items: VerifyItem[] = Array.from({ length: 100 }, (_, i) => {
      const k = key.map((b) => b ^ i);
      const msg = 1000n + BigInt(i);
      return { msg, sig: wasm.sign(k, msg), publicKey: wasm.publicKey(k) };
    });
    const one = { msg: 7n, sig: wasm.sign(key, 7n), publicKey };
    const inputs = [1n, 2n, 3n, 4n, 5n].map((x) => x * 0x1234567890abcdefn);

    log("verify (Wasm, then circomlibjs)…");
    const verify = await opsPerSecond(() => wasm.verify(one), { minMs: 2000 });
    const verifyJs = await opsPerSecond(() => js.verify(one), { minMs: 2000 });
    log("batch of 100…");
    const batch = 100 * (await opsPerSecond(() => wasm.verifyBatch(items), { minMs: 2000 }));
    log("sign…");
    let m = 0n;
    const sign = await opsPerSecond(() => wasm.sign(key, m++), { minMs: 2000 });
    const signJs = await opsPerSecond(() => js.sign(key, m++), { minMs: 2000 });
    log("poseidon5…");
    const pos = await opsPerSecond(() => wasm.poseidon(inputs), { minMs: 2000, batch: 1 });
    const posJs = await opsPerSecond(() => poseidon5(inputs), { minMs: 2000 });

    const r: BenchResult[] = [
      {
        id: "crypto.verify.per_s",
        value: verify,
        unit: "verifications/s",
        baseline: verifyJs,
        ratio: verify / verifyJs,
        note: "baseline: circomlibjs verifyPoseidon",
      },
      {
        id: "crypto.verify.vs_js_ratio",
        value: verify / verifyJs,
        unit: "×",
        note: "Wasm verify ÷ circomlibjs verify, same run",
      },
      {
        id: "crypto.batch100.per_s",
        value: batch,
        unit: "signatures/s",
        baseline: verifyJs,
        ratio: batch / verifyJs,
        note: "batches of 100, random linear combination",
      },
      {
        id: "crypto.sign.per_s",
        value: sign,
        unit: "signatures/s",
        baseline: signJs,
        ratio: sign / signJs,
        note: "baseline: circomlibjs signPoseidon",
      },
      {
        id: "crypto.poseidon5.per_s",
        value: pos,
        unit: "hashes/s",
        baseline: posJs,
        ratio: pos / posJs,
        note: "baseline: poseidon-lite",
      },
      {
        id: "crypto.poseidon5.vs_js_ratio",
        value: pos / posJs,
        unit: "×",
        note: "Wasm Poseidon(5) ÷ poseidon-lite, same run",
      },
    ];
    return r;
  },
};
export default bench;
