/**
 * Idle instances of a Module, put back to their initial state and run again instead of instantiated anew (what
 * wasmtime's pooling allocator does). A WebAssembly.Instance costs 15–35 µs even for a 4 KB applet, a sixth of a
 * whole 1,000-reading energy-sum run; resetting one costs the memory zeroing the memory pool did anyway.
 *
 * Isolation and determinism: what a run can change in an instance is its memory, its mutable globals, its table and
 * its data segments. Before a reused instance runs:
 *   - its memory is zeroed and the image instantiation wrote (the active data segments, recorded from the first
 *     instance of the Module before any of its code ran) written back;
 *   - __mfi_reset (meter.ts) sets every mutable global, the fuel counter and trap code included, to its initialiser;
 *   - the table cannot have changed: the validator refuses every table instruction but call_indirect;
 *   - active data segments were dropped at instantiation (memory.init on them traps in a new instance as in a reused
 *     one); a Module with passive segments, whose data.drop would change what the next run sees, is never reused;
 *   - a memory that grew cannot shrink, so an instance whose memory grew is dropped.
 * A reused instance therefore starts exactly as a new one would: no byte, global or memory.size of an earlier run
 * (another device's data) survives (tested against new instances in instance-pool.test.ts).
 */
import { RESET_EXPORT, fuelCell, type FuelCell } from "./fuel.ts";
import type { Module } from "./module.ts";

const PAGE = 65536;
/** Idle instances kept per Module: runs on one thread are sequential, so one or two are ever in use. */
const KEEP = 2;
/**
 * The memories of all idle instances together stay under this (Engines cache every Module they compile, so without
 * a cap a worker with many applets would keep two memories of each); past it an instance's memory goes back to the
 * memory pool instead.
 */
let idleLimitBytes = 64 << 20;
let idleBytes = 0;

export interface PooledInstance {
  wasm: WebAssembly.Instance;
  memory: WebAssembly.Memory;
  fuel: FuelCell;
}

/** The non-zero bytes of a new instance's memory (the data segments), as runs merged across short gaps. */
type MemoryImage = { offset: number; bytes: Uint8Array }[];

/**
 * A Module's idle instances (with the Linker each was linked by) and the bytes their memories hold. The count is
 * its own object because it is what the FinalizationRegistry holds: holding the list would keep the instances alive.
 */
interface Idle {
  list: { linker: object; p: PooledInstance }[];
  held: { bytes: number };
}

// Keyed by the Module so idle instances never outlive it; when a Module is collected, its idle bytes are released.
const idle = new WeakMap<Module, Idle>();
const released = new FinalizationRegistry<{ bytes: number }>((held) => (idleBytes -= held.bytes));
const images = new WeakMap<Module, MemoryImage>();

/** An instance for a new one's caller: a new instance's parts, recording the Module's initial memory image once. */
export function adopt(module: Module, wasm: WebAssembly.Instance, memory: WebAssembly.Memory): PooledInstance {
  if (!images.has(module)) images.set(module, imageOf(memory));
  return { wasm, memory, fuel: fuelCell(wasm.exports) };
}

/** An idle instance of `module` linked by `linker`, already reset to the initial state; undefined if none. */
export function takeInstance(module: Module, linker: object): PooledInstance | undefined {
  const pool = idle.get(module);
  const k = pool ? pool.list.findLastIndex((e) => e.linker === linker) : -1;
  if (k < 0) return undefined;
  const { p } = pool!.list.splice(k, 1)[0]!;
  pool!.held.bytes -= p.memory.buffer.byteLength;
  idleBytes -= p.memory.buffer.byteLength;
  const mem = new Uint8Array(p.memory.buffer);
  mem.fill(0);
  for (const run of images.get(module)!) mem.set(run.bytes, run.offset);
  (p.wasm.exports[RESET_EXPORT] as () => void)();
  return p;
}

/**
 * Keep an instance after its run for the next one. Returns false when it cannot be reused (its memory grew, the
 * Module has passive data, enough are idle already, or the idle memories are at their limit): the caller then owns
 * its memory again.
 */
export function giveInstance(module: Module, linker: object, p: PooledInstance): boolean {
  const bytes = p.memory.buffer.byteLength;
  if (module.info.passiveData || bytes !== module.info.memoryMinPages * PAGE || !images.has(module)) return false;
  let pool = idle.get(module);
  if (!pool) {
    idle.set(module, (pool = { list: [], held: { bytes: 0 } }));
    released.register(module, pool.held);
  }
  if (pool.list.length >= KEEP || idleBytes + bytes > idleLimitBytes) return false;
  pool.list.push({ linker, p });
  pool.held.bytes += bytes;
  idleBytes += bytes;
  return true;
}

/** Bytes held by idle instances' memories, and the limit (tests and operators' diagnostics). */
export function idleInstanceBytes(): { bytes: number; limit: number } {
  return { bytes: idleBytes, limit: idleLimitBytes };
}

/** Change the limit on idle instances' memory (tests; 0 turns reuse off). Returns the previous limit. */
export function setIdleInstanceLimit(bytes: number): number {
  const before = idleLimitBytes;
  idleLimitBytes = bytes;
  return before;
}

function imageOf(memory: WebAssembly.Memory): MemoryImage {
  // Once per Module: a word-wise scan (Uint32Array reads are plain numbers) of the whole initial memory.
  const words = new Uint32Array(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  const out: MemoryImage = [];
  const GAP = 16; // words of zeros that end a run (shorter gaps are cheaper copied than split)
  for (let w = 0; w < words.length; w++) {
    if (words[w] === 0) continue;
    let end = w + 1;
    for (let zeros = 0, k = end; k < words.length && zeros < GAP; k++) {
      if (words[k] === 0) zeros++;
      else ((zeros = 0), (end = k + 1));
    }
    out.push({ offset: w * 4, bytes: bytes.slice(w * 4, end * 4) });
    w = end;
  }
  return out;
}
