/**
 * Linear memories for runs, recycled. A fresh WebAssembly.Memory costs little to reserve but every page is
 * faulted in on first touch, and on some hosts (sandboxed kernels) a page fault costs tens of µs: writing a
 * module's data segments and its input into new memory was most of an instantiation and half of a small run.
 * The metered module therefore imports its memory (meter.ts MEMORY_IMPORT) and the runtime hands it one from here.
 *
 * Isolation: a memory is reused only while it still has exactly the module's initial size (a grown memory cannot
 * shrink, so it is dropped), and it is zeroed when taken, before instantiation writes the data segments. A run
 * therefore starts from the same bytes and the same memory.size() as in a brand-new memory.
 */
const PAGE = 65536;
/** Spare memories kept per (initial, maximum) shape; more than a few would only hold address space. */
const KEEP = 4;

const pools = new Map<string, WebAssembly.Memory[]>();

/** A zeroed memory of `initial` pages with the given maximum (a new one when the pool is empty). */
export function takeMemory(initial: number, maximum: number): WebAssembly.Memory {
  const m = pools.get(`${initial}/${maximum}`)?.pop();
  if (!m) return new WebAssembly.Memory({ initial, maximum });
  new Uint8Array(m.buffer).fill(0);
  return m;
}

/** Return a memory after its run; kept only if it was never grown. The caller must drop every reference to it. */
export function giveMemory(m: WebAssembly.Memory, initial: number, maximum: number): void {
  if (m.buffer.byteLength !== initial * PAGE) return;
  const key = `${initial}/${maximum}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = []));
  if (pool.length < KEEP) pool.push(m);
}
