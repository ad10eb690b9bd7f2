/**
 * Loads build/crypto/crypto.wasm (made by scripts/build-crypto.ts) and moves 32-byte little-endian integers in and
 * out of its fixed buffers. Works wherever WebAssembly does: bytes come from fetch() (browsers; Deno and Bun also
 * fetch file: URLs), from the file system on Node, or are passed in by the caller.
 */
import { CryptoWasmLoadError } from "./errors.ts";

export interface CryptoExports {
  memory: WebAssembly.Memory;
  init(): void;
  io_ptr(): number;
  status_ptr(): number;
  key_ptr(): number;
  group_ptr(): number;
  poseidon(n: number): void;
  verify(): number;
  verify_batch(n: number): number;
  public_key(len: number): void;
  sign(len: number): void;
  MAX_BATCH: WebAssembly.Global;
  ITEM: WebAssembly.Global;
}

/** Where the build puts the module, relative to this file. */
export const WASM_URL = new URL("../../build/crypto/crypto.wasm", import.meta.url);

type NodeProcess = { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
type FsPromises = { readFile(url: URL): Promise<Uint8Array> };

/**
 * Node's fetch() refuses file: URLs, so there the file system reads them. It is reached through
 * process.getBuiltinModule (Node ≥ 20.16) rather than an import, so nothing in the SDK core names a Node built-in
 * and a browser bundle has nothing to resolve (device-sdk/portability.test.ts). Elsewhere (browsers, Deno, Bun
 * without it): undefined, and fetch() reads the URL.
 */
function nodeReadFile(): ((url: URL) => Promise<Uint8Array>) | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== "function") return undefined;
  const fs = proc.getBuiltinModule("node:fs/promises") as FsPromises;
  return (url) => fs.readFile(url);
}

export async function readWasmBytes(url: URL = WASM_URL): Promise<Uint8Array> {
  try {
    const readFile = url.protocol === "file:" ? nodeReadFile() : undefined;
    if (readFile) return new Uint8Array(await readFile(url));
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (cause) {
    throw new CryptoWasmLoadError(`cannot read the crypto Wasm module at ${url.href}`, {
      details: "Run `npm run build` (scripts/build-crypto.ts) to produce build/crypto/crypto.wasm.",
      cause,
    });
  }
}

const M64 = (1n << 64n) - 1n;

/** One instance of the module plus typed views; not reentrant (one call at a time, as JS is). */
export class CryptoInstance {
  readonly x: CryptoExports;
  readonly io: number;
  readonly status: number;
  readonly key: number;
  readonly group: number;
  readonly maxBatch: number;
  readonly itemBytes: number;
  private u64!: BigUint64Array;
  private u8!: Uint8Array;

  constructor(module: WebAssembly.Module) {
    const inst = new WebAssembly.Instance(module, {});
    this.x = inst.exports as unknown as CryptoExports;
    this.x.init();
    this.io = this.x.io_ptr();
    this.status = this.x.status_ptr();
    this.key = this.x.key_ptr();
    this.group = this.x.group_ptr();
    this.maxBatch = this.x.MAX_BATCH.value as number;
    this.itemBytes = this.x.ITEM.value as number;
    this.views();
  }

  private views(): void {
    this.u64 = new BigUint64Array(this.x.memory.buffer);
    this.u8 = new Uint8Array(this.x.memory.buffer);
  }

  /** Writes x (0 <= x < 2^256) at byte offset `at` (8-aligned). */
  put(at: number, x: bigint): void {
    if (this.u64.buffer !== this.x.memory.buffer) this.views();
    const i = at >>> 3;
    const v = this.u64;
    v[i] = x & M64;
    v[i + 1] = (x >> 64n) & M64;
    v[i + 2] = (x >> 128n) & M64;
    v[i + 3] = x >> 192n;
  }

  get(at: number): bigint {
    if (this.u64.buffer !== this.x.memory.buffer) this.views();
    const i = at >>> 3;
    const v = this.u64;
    return v[i]! | (v[i + 1]! << 64n) | (v[i + 2]! << 128n) | (v[i + 3]! << 192n);
  }

  bytes(): Uint8Array {
    if (this.u8.buffer !== this.x.memory.buffer) this.views();
    return this.u8;
  }
}
