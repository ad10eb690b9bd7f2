/**
 * Loads build/crypto/crypto.wasm (made by scripts/build-crypto.ts) and moves 32-byte little-endian integers in and
 * out of its fixed buffers. Works wherever WebAssembly does: bytes come from the file system on Node/Deno/Bun and
 * from fetch() elsewhere, or are passed in by the caller.
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

export async function readWasmBytes(url: URL = WASM_URL): Promise<Uint8Array> {
  try {
    if (url.protocol === "file:") {
      const fs = await import("node:fs/promises");
      return new Uint8Array(await fs.readFile(url));
    }
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
