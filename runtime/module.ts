/**
 * Module: validated + metered code with its imageId, compiled once; each run gets a new instance or an idle one
 * reset (instance-pool.ts). Made by Engine.compile; kept free of the compiler (binaryen) so a worker thread can run
 * Modules it is sent.
 */
import type { ModuleInfo } from "./validate.ts";

export interface ModuleParts {
  /** sha256 of the original (unmetered) Wasm bytes, hex without 0x: `imageIdHex(imageIdOf(wasm))`. */
  imageId: string;
  /** The original bytes, exactly as uploaded. */
  wasm: Uint8Array;
  /** The metered bytes the runtime actually instantiates. */
  metered: Uint8Array;
  compiled: WebAssembly.Module;
  info: ModuleInfo;
}

export class Module implements ModuleParts {
  readonly imageId: string;
  readonly wasm: Uint8Array;
  readonly metered: Uint8Array;
  readonly compiled: WebAssembly.Module;
  readonly info: ModuleInfo;

  constructor(parts: ModuleParts) {
    this.imageId = parts.imageId;
    this.wasm = parts.wasm;
    this.metered = parts.metered;
    this.compiled = parts.compiled;
    this.info = parts.info;
  }
}
