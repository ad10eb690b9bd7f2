/**
 * The `mfi` host functions and bulk memory, as the compiled circuit sees them. The input buffer (docs/abi.md) for
 * one device and n readings is bound to the claim template's signals: header and counts are known per n, the epoch,
 * param, seq, ts and values are the slots' signals, range-checked once on first read. `claim` becomes the claim
 * output; `log` and `emit` are not part of the statement and are skipped.
 */
import type { Builder } from "./builder.ts";
import type { Executor } from "./exec.ts";
import type { InputByte, Overlay } from "./memory.ts";
import { Refuse } from "./ops.ts";
import { pathCondition, type State } from "./state.ts";
import { lcAdd, lcConst, lcScale, lcSig, sym, type Val } from "./value.ts";

export interface InputSignals {
  epochStart: number;
  epochLength: number;
  seq0: number;
  param?: number;
  ts: number[];
  values: number[][];
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
/** Keys × (present, value) fill one Poseidon(16): the state commitment (docs/circuits.md, "State between epochs"). */
export const MAX_STATE_KEYS = 8;

export class Host {
  private fields = new Map<string, Val>();
  readonly configLen: number;
  constructor(
    readonly b: Builder,
    readonly sig: InputSignals,
  ) {
    this.configLen = sig.param === undefined ? 0 : 8;
  }

  get readingsAt(): number {
    return 72 + this.configLen;
  }
  inputLen(n: number): number {
    return this.readingsAt + 56 * n;
  }

  /** A symbolic input field, range-checked the first time the applet reads it. */
  private field(name: string, make: () => Val): Val {
    let v = this.fields.get(name);
    if (!v) this.fields.set(name, (v = make()));
    return v;
  }
  private checked(name: string, lc: ReturnType<typeof lcSig>, lo: bigint, hi: bigint): Val {
    return this.field(name, () => {
      this.b.range(lc, lo, hi);
      return sym(lc, lo, hi);
    });
  }

  byteAt(rel: number, n: number): InputByte {
    const le = (words: number[], o: number) => ({ b: (words[o >> 2]! >>> (8 * (o & 3))) & 0xff });
    const s = this.sig;
    if (rel < 16) return le([1, n, 1, this.configLen], rel);
    if (rel < 24)
      return { field: "epochStart", start: 16, w: 8, v: () => sym(lcSig(s.epochStart), 0n, (1n << 48n) - 1n) };
    if (rel < 32)
      return { field: "epochLength", start: 24, w: 8, v: () => sym(lcSig(s.epochLength), 0n, (1n << 32n) - 1n) };
    if (rel < 64) return undefined;
    if (rel < 72) return le([0, n], rel - 64);
    if (rel < this.readingsAt)
      return { field: "param", start: 72, w: 8, v: () => this.checked("param", lcSig(s.param!), I64_MIN, I64_MAX) };
    const r = Math.floor((rel - this.readingsAt) / 56);
    const f = (rel - this.readingsAt) % 56;
    const at = this.readingsAt + 56 * r;
    if (f < 8) return { b: 0 };
    if (f < 16)
      return {
        field: `seq${r}`,
        start: at + 8,
        w: 8,
        v: () => this.checked(`seq${r}`, lcAdd(lcSig(s.seq0), lcConst(BigInt(r))), 0n, U64_MAX),
      };
    if (f < 24) return { field: `ts${r}`, start: at + 16, w: 8, v: () => this.field(`ts${r}`, () => this.windowTs(r)) };
    const j = (f - 24) >> 3;
    return {
      field: `v${r}.${j}`,
      start: at + 24 + 8 * j,
      w: 8,
      v: () => this.checked(`v${r}.${j}`, lcSig(s.values[r]![j]!), I64_MIN, I64_MAX),
    };
  }

  /**
   * Slot r's ts as the applet reads it: start + inside[r]·(ts[r] − start), one product per slot read. For an inside
   * slot that is ts[r], which the caller guarantees lies in [start, start + length) (ReadingsChain proves it); for
   * any other slot it is start, which lies there too because length ≥ 1 (ReadingsChain: slot 0 is inside). So on
   * every path, taken or not, start ≤ ts < start + length: the builder records it, comparisons against the window
   * (the SDK's inEpoch) become constants and ts − start stays in [0, 2^32) without a bit decomposition, and no
   * decomposition on a path not taken can fail for a trailing slot's ts.
   */
  private windowTs(r: number): Val {
    const s = this.sig;
    const start = lcSig(s.epochStart);
    const d = this.b.mul(lcSig(this.b.insideIds[r]!), lcAdd(lcSig(s.ts[r]!), start, -1n));
    const LEN_MAX = (1n << 32n) - 1n;
    // d = ts − start ∈ [0, length − 1] and start + length − 1 − ts = length − 1 − d ≥ 0.
    this.b.know(d, 0n, LEN_MAX - 1n);
    this.b.know(lcAdd(lcSig(s.epochLength), d, -1n), 1n, LEN_MAX);
    return sym(lcAdd(start, d), 0n, (1n << 48n) - 1n + LEN_MAX - 1n);
  }

  call(ex: Executor, name: string, args: Val[], s: State, at: number): State | null {
    const st = s.frames[s.frames.length - 1]!.stack;
    const K = this.b.K;
    switch (name) {
      case "input_len":
        st.push({ kind: "n", t: Array.from({ length: K }, (_, i) => BigInt(this.inputLen(i + 1))) });
        return s;
      case "input_read": {
        const [dst, off, len] = args as [Val, Val, Val];
        const full = Array.from({ length: K }, (_, i) => BigInt(this.inputLen(i + 1)));
        if (
          dst.kind !== "c" ||
          off.kind !== "c" ||
          off.c !== 0n ||
          len.kind !== "n" ||
          len.t.some((x, i) => x !== full[i]) ||
          s.mem.overlay
        ) {
          throw new Refuse(
            "UnsupportedInput",
            "input_read must copy the whole input once, to a fixed address",
            "use the SDK's loadInput (it reads the input once at start)",
          );
        }
        const base = Number(dst.c);
        for (const n of s.ns)
          for (let a = base; a < base + this.inputLen(n); a += 8)
            if (s.mem.load({ kind: "c", c: BigInt(a) }, 0, 8, [n]).kind !== "c")
              throw new Refuse(
                "MemoryAlias",
                "the input buffer overlaps memory written before",
                "read the input into a fresh buffer",
              );
        const ov: Overlay = { base, len: full.map(Number), byteAt: (rel, n) => this.byteAt(rel, n) };
        s.mem.overlay = ov;
        st.push(len);
        return ex.bounds(s, dst, 0, this.inputLen(K), at);
      }
      case "claim": {
        const [dev, out] = args as [Val, Val];
        if (dev.kind !== "c" || !s.mem.overlay || Number(dev.c) !== s.mem.overlay.base + 32)
          throw new Refuse(
            "ClaimDevice",
            "claim's device pointer is not the input's device entry",
            "claim with the Device the SDK gives (device(0).idPtr)",
          );
        if (this.b.prunedUnclaimed)
          throw new Refuse(
            "ClaimDevice",
            "a claim after paths that had not claimed were joined",
            "claim once, at the end of the device's computation",
          );
        // A second claim for the device is a HostError trap.
        const again = ex.trapIf(s, this.b.lcOf(s.claimed).lc, at, "a second claim for the device");
        if (!again) return null;
        s.claimed = { kind: "c", c: 1n };
        s.out = out.kind === "s" ? ((u) => sym(u.lc, u.lo, u.hi))(ex.arith.toU(out, 64)) : out;
        return s;
      }
      case "state_get":
        return this.stateGet(ex, args, s, at);
      case "state_set":
        return this.stateSet(ex, args, s);
      case "log":
      case "emit":
        return s;
      case "abort":
        return ex.trap(s, at, "abort");
    }
    throw new Refuse(
      "UnsupportedHostCall",
      `host call ${name} is not provable yet`,
      "remove the call from the claim's path",
    );
  }

  /** Constant state keys in the order the applet first touched them: the slot's input signals sp[i], sv[i]. */
  readonly stateKeys: string[] = [];

  /** The device pointer must be the input's device entry, the key constant bytes: its hex; the slot made on first use. */
  private stateKey(args: Val[], s: State, what: string): string {
    const [dev, keyPtr, keyLen] = args as [Val, Val, Val];
    if (dev.kind !== "c" || !s.mem.overlay || Number(dev.c) !== s.mem.overlay.base + 32)
      throw new Refuse(
        "ClaimDevice",
        `${what}'s device pointer is not the input's device entry`,
        "use the Device the SDK gives (device(0).idPtr)",
      );
    if (keyPtr.kind === "s" || keyLen.kind !== "c")
      throw new Refuse(
        "StatefulApplet",
        `${what} with a key whose address or length depends on the readings`,
        "use constant state keys (string literals): the circuit commits to a fixed list of keys",
      );
    let hex = "";
    for (let i = 0; i < Number(keyLen.c); i++) {
      const b = s.mem.load(keyPtr, i, 1, s.ns);
      if (b.kind !== "c")
        throw new Refuse(
          "StatefulApplet",
          `${what} with a key whose bytes depend on the readings`,
          "use constant state keys (string literals): the circuit commits to a fixed list of keys",
        );
      hex += Number(b.c).toString(16).padStart(2, "0");
    }
    if (!s.kvIn.has(hex)) {
      if (this.stateKeys.length >= MAX_STATE_KEYS)
        throw new Refuse(
          "TooLarge",
          `more than ${MAX_STATE_KEYS} state keys`,
          `keep at most ${MAX_STATE_KEYS} keys (the state commitment is one Poseidon of 16 inputs)`,
        );
      const i = this.stateKeys.push(hex) - 1;
      const p = lcSig(this.b.input(`sp[${i}]`));
      const v = lcSig(this.b.input(`sv[${i}]`));
      // present is a bit, the value a u64, and an absent key's value is 0 (so each state has one encoding).
      this.b.range(p, 0n, 1n);
      this.b.range(v, 0n, U64_MAX);
      this.b.assertZero(this.b.mul(lcAdd(lcConst(1n), p, -1n), v));
      s.kvIn.set(hex, { p: sym(p, 0n, 1n), v: sym(v, 0n, U64_MAX) });
    }
    return hex;
  }

  /** state_get(dev, key, keyLen, dst, 8): 8 and the value at dst when present, else -1 and dst unchanged. */
  private stateGet(ex: Executor, args: Val[], s: State, at: number): State | null {
    const key = this.stateKey(args, s, "state_get");
    const [, , , dst, cap] = args as [Val, Val, Val, Val, Val];
    if (cap.kind !== "c" || cap.c !== 8n || dst.kind === "s")
      throw new Refuse(
        "StatefulApplet",
        "state_get into a buffer that is not 8 bytes at a known address",
        "read state with the SDK's state.getU64 (8-byte values)",
      );
    const s2 = ex.bounds(s, dst, 0, 8, at);
    if (!s2) return null;
    const slot = s.kv.get(key) ?? s.kvIn.get(key)!;
    const p = this.b.lcOf(slot.p).lc;
    const old = this.b.lcOf(s.mem.load(dst, 0, 8, s.ns));
    const val = this.b.lcOf(slot.v);
    const lo = old.lo < val.lo ? old.lo : val.lo;
    const hi = old.hi > val.hi ? old.hi : val.hi;
    s.mem.store(dst, 0, 8, sym(this.b.name(lcAdd(old.lc, this.b.mul(p, lcAdd(val.lc, old.lc, -1n)))), lo, hi), s.ns);
    // The i32 result: 8 when present, -1 (0xffffffff) when absent.
    const r = lcAdd(lcConst(0xffffffffn), lcScale(p, 8n - 0xffffffffn));
    const st = s.frames[s.frames.length - 1]!.stack;
    st.push(slot.p.kind === "c" ? { kind: "c", c: slot.p.c === 1n ? 8n : 0xffffffffn } : sym(r, 8n, 0xffffffffn));
    return s2;
  }

  /** state_set(dev, key, keyLen, val, 8) stores the 8 bytes at val; valLen = -1 deletes the key. */
  private stateSet(ex: Executor, args: Val[], s: State): State {
    const key = this.stateKey(args, s, "state_set");
    const [, , , ptr, len] = args as [Val, Val, Val, Val, Val];
    if (len.kind === "c" && len.c === 0xffffffffn) {
      s.kv.set(key, { p: { kind: "c", c: 0n }, v: { kind: "c", c: 0n } });
      return s;
    }
    if (len.kind !== "c" || len.c !== 8n || ptr.kind === "s")
      throw new Refuse(
        "StatefulApplet",
        "state_set of a value that is not 8 bytes at a known address",
        "write state with the SDK's state.setU64 (8-byte values) or delete it with state.remove",
      );
    const v = s.mem.load(ptr, 0, 8, s.ns);
    s.kv.set(key, {
      p: { kind: "c", c: 1n },
      v: v.kind === "s" ? ((u) => sym(u.lc, u.lo, u.hi))(ex.arith.toU(v, 64)) : v,
    });
    return s;
  }

  /** memory.fill: known sizes write bytes; a count-dependent size is accepted only where it changes nothing. */
  fill(ex: Executor, len: Val, val: Val, dst: Val, s: State, at: number): State | null {
    if (val.kind !== "c" || dst.kind === "s")
      throw new Refuse(
        "DataDependentAddress",
        "memory.fill of a value or at an address that depends on the readings",
        "fill with constants at known addresses",
      );
    if (len.kind === "c") {
      const s2 = ex.bounds(s, dst, Number(len.c) - 1, 1, at);
      if (!s2 || len.c === 0n) return s2;
      for (let i = 0; i < Number(len.c); i++) s.mem.store(dst, i, 1, { kind: "c", c: val.c & 0xffn }, s.ns);
      return s2;
    }
    if (len.kind === "n") {
      for (const n of s.ns)
        for (let i = 0; i < Number(len.t[n - 1]); i++) {
          const v = s.mem.load(dst, i, 1, [n]);
          if (v.kind !== "c" || v.c !== (val.c & 0xffn))
            throw new Refuse(
              "DataDependentMemorySize",
              "memory.fill of a count-dependent length over memory that is not already filled",
              "fill known lengths only",
            );
        }
      return s;
    }
    throw new Refuse(
      "DataDependentMemorySize",
      "memory.fill of a length that depends on the readings",
      "fill known lengths only",
    );
  }

  /** memory.copy of a known length: cell by cell (symbolic values keep their width), read all, then write. */
  copy(ex: Executor, len: Val, src: Val, dst: Val, s: State, at: number): State | null {
    if (len.kind !== "c")
      throw new Refuse(
        "DataDependentMemorySize",
        "memory.copy of a length that depends on the readings",
        "copy known lengths only",
      );
    const L = Number(len.c);
    if (L === 0) return s;
    if (!ex.bounds(s, src, L - 1, 1, at) || !ex.bounds(s, dst, L - 1, 1, at)) return null;
    const pieces: { i: number; w: number; v: Val }[] = [];
    for (let i = 0; i < L;) {
      let done = false;
      for (const w of [1, 2, 4, 8]) {
        if (i + w > L) break;
        try {
          pieces.push({ i, w, v: s.mem.load(src, i, w, s.ns) });
          i += w;
          done = true;
          break;
        } catch (e) {
          if (!(e instanceof Refuse) || e.reason !== "PartialRead") throw e;
        }
      }
      if (!done)
        throw new Refuse("PartialRead", "memory.copy splits a value that depends on the readings", "copy whole values");
    }
    for (const p of pieces) s.mem.store(dst, p.i, p.w, p.v, s.ns);
    void pathCondition;
    return s;
  }
}
