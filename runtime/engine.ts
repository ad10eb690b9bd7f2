/**
 * Engine (shared configuration) and Module (validated + metered code with its imageId), in wasmtime's words.
 * A Module is immutable and cacheable: compile once, then each run gets an instance (new, or an idle one reset).
 */
import { imageIdHex } from "../core/index.ts";
import { imageIdOf } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";
import { checkFuelBudget } from "./fuel.ts";
import { meterModule } from "./meter.ts";
import { Module } from "./module.ts";
import { validateModule } from "./validate.ts";

export { Module };

export interface EngineConfig {
  /** Fuel per run (see docs/fuel.md). */
  fuel?: number;
  /** Memory cap in 64 KiB pages; a module declaring a larger maximum is refused. */
  memoryPages?: number;
  /** Journal size cap in bytes; an applet writing more gets Trap.HostError. */
  journalBytes?: number;
}

export const DEFAULT_ENGINE_CONFIG: Required<EngineConfig> = {
  fuel: 100_000_000,
  memoryPages: 64,
  journalBytes: 1 << 20,
};

export class Engine {
  readonly config: Required<EngineConfig>;
  private cache = new Map<string, Module>();

  constructor(config: EngineConfig = {}) {
    this.config = { ...DEFAULT_ENGINE_CONFIG, ...stripUndefined(config) };
    const c = this.config;
    checkFuelBudget(c.fuel);
    if (!Number.isInteger(c.memoryPages) || c.memoryPages < 1 || c.memoryPages > 65536)
      throw new RuntimeInputError(`memoryPages must be in [1, 65536], got ${c.memoryPages}`);
    if (!Number.isInteger(c.journalBytes) || c.journalBytes < 0)
      throw new RuntimeInputError(`journalBytes must be a non-negative integer, got ${c.journalBytes}`);
  }

  /** Validate, meter and compile Wasm bytes (cached by imageId). Throws ValidationError for a refused module. */
  compile(wasm: Uint8Array): Module {
    const id = imageIdHex(imageIdOf(wasm));
    let m = this.cache.get(id);
    if (!m) {
      const bytes = new Uint8Array(wasm) as Uint8Array<ArrayBuffer>;
      const info = validateModule(bytes, { memoryCapPages: this.config.memoryPages });
      const metered = meterModule(bytes, info.memoryMaxPages);
      m = new Module({
        imageId: id,
        wasm: bytes,
        metered,
        compiled: new WebAssembly.Module(metered as Uint8Array<ArrayBuffer>),
        info,
      });
      this.cache.set(id, m);
    }
    return m;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
