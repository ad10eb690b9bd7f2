/**
 * The applet's linear memory during symbolic execution. Addresses must be known, or known per reading count n
 * (the heap after the input buffer starts at a count-dependent address): such an address lives in a *region* keyed
 * by how it varies with n, and a cell is (region, offset, width, value). Accesses are checked per feasible n against
 * every other region, the input buffer and the initial image; two sources that may cover the same byte are refused
 * (MemoryAlias) rather than guessed, so the circuit never reads a stale value.
 */
import { Refuse } from "./ops.ts";
import type { Val } from "./value.ts";

export interface Cell {
  off: number;
  w: number;
  v: Val;
}
interface Region {
  delta: number[];
  cells: Map<number, Cell>;
}
/** What the input buffer holds at a byte, for count n: a known byte, or part of a symbolic field. */
export type InputByte = { b: number } | { field: string; start: number; w: number; v: () => Val } | undefined;
export interface Overlay {
  base: number;
  /** The input's byte length per count n (index n-1). */
  len: number[];
  byteAt(rel: number, n: number): InputByte;
}

type Source = { b: number } | { sym: object | string; start: number; w: number; v: () => Val };

export class Memory {
  regions = new Map<string, Region>();
  overlay: Overlay | undefined;
  constructor(
    readonly K: number,
    readonly image: Uint8Array,
    public pages: number,
  ) {}

  clone(): Memory {
    const m = new Memory(this.K, this.image, this.pages);
    for (const [k, r] of this.regions) m.regions.set(k, { delta: r.delta, cells: new Map(r.cells) });
    m.overlay = this.overlay;
    return m;
  }

  /** Region key, per-n delta and offset of an address value. */
  locate(addr: Val, offset: number): { key: string; delta: number[]; off: number } {
    if (addr.kind === "c") return { key: "", delta: new Array(this.K).fill(0), off: Number(addr.c) + offset };
    if (addr.kind === "n") {
      const t0 = Number(addr.t[0]);
      const delta = addr.t.map((x) => Number(x) - t0);
      return { key: delta.join(","), delta, off: t0 + offset };
    }
    throw new Refuse(
      "DataDependentAddress",
      "a memory address depends on the readings' values",
      "index memory with constants and loop counters only (a fixed-size bucket array indexed by data is not supported yet)",
    );
  }

  private region(key: string, delta: number[]): Region {
    let r = this.regions.get(key);
    if (!r) this.regions.set(key, (r = { delta, cells: new Map() }));
    return r;
  }

  /** Every source of the byte at absolute address a for count n (more than one means the order is unknown). */
  private sources(a: number, n: number): { src: Source; region?: string }[] {
    const out: { src: Source; region?: string }[] = [];
    for (const [key, r] of this.regions) {
      const o = a - r.delta[n - 1]!;
      for (let s = o; s > o - 8; s--) {
        const c = r.cells.get(s);
        if (c && s + c.w > o) {
          const v = c.v;
          out.push({
            region: key,
            src:
              v.kind === "s"
                ? { sym: c, start: s + r.delta[n - 1]!, w: c.w, v: () => v }
                : { b: Number(((v.kind === "c" ? v.c : v.t[n - 1]!) >> BigInt(8 * (o - s))) & 0xffn) },
          });
          break;
        }
      }
    }
    const ov = this.overlay;
    if (ov && a >= ov.base && a < ov.base + ov.len[n - 1]!) {
      const ib = ov.byteAt(a - ov.base, n);
      if (!ib)
        throw new Refuse(
          "UnsupportedInput",
          `reads input byte ${a - ov.base}, which the compiler does not bind (e.g. the deviceId bytes)`,
          "read readings, the epoch, the counts and the config param only",
        );
      out.push({ src: "b" in ib ? ib : { sym: ib.field, start: ov.base + ib.start, w: ib.w, v: ib.v } });
    }
    if (out.length === 0) out.push({ src: { b: a < this.image.length ? this.image[a]! : 0 } });
    return out;
  }

  load(addr: Val, offset: number, w: number, feasible: number[]): Val {
    const { delta, off } = this.locate(addr, offset);
    const t: bigint[] = new Array(this.K).fill(0n);
    let symbolic: { sym: object | string; v: () => Val } | undefined;
    let known = true;
    for (const n of feasible) {
      const base = delta[n - 1]! + off;
      let x = 0n;
      for (let i = 0; i < w; i++) {
        const s = this.sources(base + i, n);
        if (s.length > 1)
          throw new Refuse(
            "MemoryAlias",
            `memory at ${base + i} (reading count ${n}) may hold either of two writes`,
            "keep data written at count-dependent addresses apart from fixed addresses",
          );
        const src = s[0]!.src;
        if ("b" in src) x |= BigInt(src.b) << BigInt(8 * i);
        else {
          if (src.start !== base || src.w !== w || (symbolic && symbolic.sym !== src.sym))
            throw new Refuse(
              "PartialRead",
              `a load of ${w} bytes at ${base} reads part of a value that depends on the readings`,
              "load reading fields and stored values with the width they were written with",
            );
          symbolic = src;
          known = false;
          break;
        }
      }
      if (!known && !symbolic) break;
      t[n - 1] = x;
    }
    if (symbolic) {
      if (feasible.some((n) => t[n - 1] !== 0n))
        throw new Refuse(
          "PartialRead",
          "a load mixes known bytes and a value that depends on the readings",
          "load values with the width they were written with",
        );
      return symbolic.v();
    }
    const f = feasible.length ? t[feasible[0]! - 1]! : 0n;
    return feasible.every((n) => t[n - 1] === f) ? { kind: "c", c: f } : { kind: "n", t };
  }

  store(addr: Val, offset: number, w: number, v: Val, feasible: number[]): void {
    const { key, delta, off } = this.locate(addr, offset);
    const ov = this.overlay;
    for (const n of feasible) {
      const a = delta[n - 1]! + off;
      if (ov && a + w > ov.base && a < ov.base + ov.len[n - 1]!)
        throw new Refuse(
          "UnsupportedInput",
          "the applet writes into its input buffer",
          "copy what you need out of the input instead of modifying it",
        );
      for (const [k, r] of this.regions) {
        if (k === key) continue;
        for (let s = a - r.delta[n - 1]! - 7; s < a - r.delta[n - 1]! + w; s++) {
          const c = r.cells.get(s);
          if (c && s + c.w > a - r.delta[n - 1]!)
            throw new Refuse(
              "MemoryAlias",
              `a store at ${a} (reading count ${n}) may overwrite memory written at another address`,
              "keep data written at count-dependent addresses apart from fixed addresses",
            );
        }
      }
    }
    const r = this.region(key, delta);
    // Cells of this region that the store overlaps: known ones keep their uncovered bytes, symbolic ones must match.
    for (let s = off - 7; s < off + w; s++) {
      const c = r.cells.get(s);
      if (!c || s + c.w <= off || (s === off && c.w === w)) continue;
      if (c.v.kind === "s")
        throw new Refuse(
          "PartialRead",
          `a store of ${w} bytes at offset ${off} overwrites part of a value that depends on the readings`,
          "store values with the width they were written with",
        );
      r.cells.delete(s);
      for (let i = 0; i < c.w; i++) {
        const o = s + i;
        if (o >= off && o < off + w) continue;
        const cv = c.v;
        const byte = (x: bigint) => (x >> BigInt(8 * i)) & 0xffn;
        r.cells.set(o, {
          off: o,
          w: 1,
          v: cv.kind === "c" ? { kind: "c", c: byte(cv.c) } : { kind: "n", t: (cv as { t: bigint[] }).t.map(byte) },
        });
      }
    }
    r.cells.set(off, { off, w, v });
  }

  /** Every cell, as (region, offset, width), for merging states. */
  keys(): { key: string; delta: number[]; off: number; w: number }[] {
    const out: { key: string; delta: number[]; off: number; w: number }[] = [];
    for (const [key, r] of this.regions)
      for (const c of r.cells.values()) out.push({ key, delta: r.delta, off: c.off, w: c.w });
    return out;
  }
  /** Put a merged cell (no checks: the merge read every state's value at exactly this place). */
  put(key: string, delta: number[], off: number, w: number, v: Val): void {
    this.region(key, delta).cells.set(off, { off, w, v });
  }
}
