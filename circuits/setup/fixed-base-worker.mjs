// Worker for circuits/setup/fixed-base.ts: computes [s]G for many scalars s and one generator G (G1 or G2 of bn128)
// with 12-bit fixed-base windows over ffjavascript's Wasm curve (the one snarkjs uses), about 10x faster than
// per-point timesScalar. A child process, not a worker thread: ffjavascript's web-worker shim hijacks any
// worker_threads context. Plain JS so it starts without a TypeScript loader (vitest, tsx, node alike).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ff = require(createRequire(require.resolve("snarkjs")).resolve("ffjavascript"));

const W = 12;
const NW = 22; // 22 * 12 = 264 >= 254 bits of a bn128 scalar
const T = 1 << W;

const curve = await ff.buildBn128(true);
const tm = curve.tm;
const ex = tm.instance.exports;
let top = tm.alloc(0);

const GROUPS = {
  G1: { p: "g1m", sA: 64, sJ: 96, gen: curve.G1.g },
  G2: { p: "g2m", sA: 128, sJ: 192, gen: curve.G2.g },
};

function reserve(bytes) {
  const at = (top + 7) & ~7;
  top = at + bytes;
  // Headroom above top: the library's batch functions use it as scratch.
  const need = top + T * 192 * 2 - tm.memory.buffer.byteLength;
  if (need > 0) tm.memory.grow(Math.ceil(need / 65536) + 16);
  setTop(top);
  return at;
}
// Word 0 of Wasm memory is the curve library's free pointer: its batch functions take scratch space from there.
function setTop(t) {
  top = t;
  new Uint32Array(tm.memory.buffer)[0] = t;
}
const u8 = () => new Uint8Array(tm.memory.buffer);

const tables = {};
function table(name) {
  if (tables[name] !== undefined) return tables[name];
  const g = GROUPS[name];
  const f = (op) => ex[`${g.p}_${op}`];
  const pTab = reserve(NW * T * g.sA);
  const mark = top;
  const pJac = reserve(T * g.sJ);
  const pBase = reserve(g.sJ);
  u8().set(g.gen, pBase); // Jacobian, Montgomery form
  for (let j = 0; j < NW; j++) {
    f("zero")(pJac);
    for (let d = 1; d < T; d++) f("add")(pJac + (d - 1) * g.sJ, pBase, pJac + d * g.sJ);
    f("batchToAffine")(pJac, T, pTab + j * T * g.sA);
    for (let k = 0; k < W; k++) f("double")(pBase, pBase);
  }
  setTop(mark); // the Jacobian scratch is reused by compute()
  tables[name] = pTab;
  return pTab;
}

function compute(name, scalars, wantU) {
  const g = GROUPS[name];
  const f = (op) => ex[`${g.p}_${op}`];
  const pTab = table(name);
  const n = scalars.byteLength / 32;
  const mark = top;
  const pS = reserve(n * 32);
  const pJ = reserve(n * g.sJ);
  const pA = reserve(n * g.sA);
  const pU = wantU ? reserve(n * g.sA) : 0;
  const mem = u8();
  mem.set(scalars, pS);
  const addMixed = f("addMixed");
  for (let i = 0; i < n; i++) {
    const acc = pJ + i * g.sJ;
    f("zero")(acc);
    const s = pS + i * 32;
    for (let j = 0; j < NW; j++) {
      const bit = j * W;
      const o = s + (bit >> 3);
      // The last window holds only bits 252..255; the bytes after a scalar belong to the next one.
      const d = j === NW - 1 ? mem[o] >> 4 : ((mem[o] | (mem[o + 1] << 8) | (mem[o + 2] << 16)) >> (bit & 7)) & (T - 1);
      if (d !== 0) addMixed(acc, pTab + (j * T + d) * g.sA, acc);
    }
  }
  f("batchToAffine")(pJ, n, pA);
  const out = { lem: u8().slice(pA, pA + n * g.sA) };
  if (wantU) {
    f("batchLEMtoU")(pA, n, pU);
    out.u = u8().slice(pU, pU + n * g.sA);
  }
  setTop(mark);
  return out;
}

process.on("message", (msg) => {
  try {
    const out = compute(msg.group, msg.scalars, msg.wantU);
    process.send({ id: msg.id, ...out });
  } catch (err) {
    process.send({ id: msg.id, error: String((err && err.stack) || err) });
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: true });
