/**
 * Store: everything one run owns: its fuel, input, state view, journal and PRNG. Never reused across runs.
 */
import { DOMAIN } from "./abi.ts";
import type { Engine } from "./engine.ts";
import { taggedDigest } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";
import { JournalWriter } from "./journal.ts";
import { StateView, type AppletState } from "./state.ts";
import { HostTrap, Trap } from "./trap.ts";
import { checkFuelBudget, type FuelCell } from "./fuel.ts";

export interface StoreOptions {
  /** The encoded input (runtime/input.ts encodeInput). */
  input: Uint8Array;
  state?: AppletState;
  /** Fuel for this run; defaults to the engine's. */
  fuel?: number;
}

const MASK64 = (1n << 64n) - 1n;

export class Store {
  readonly input: Uint8Array;
  readonly inputDigest: string;
  readonly fuelLimit: number;
  readonly baseState: AppletState;
  readonly state: StateView;
  readonly journal: JournalWriter;
  /** Set by Instance once the applet is instantiated. */
  memory: WebAssembly.Memory | null = null;
  fuelGlobal: FuelCell | null = null;
  private rng: bigint | null = null;

  constructor(
    readonly engine: Pick<Engine, "config">,
    opts: StoreOptions,
  ) {
    this.input = opts.input;
    this.inputDigest = taggedDigest(DOMAIN.input, opts.input);
    this.fuelLimit = opts.fuel ?? engine.config.fuel;
    checkFuelBudget(this.fuelLimit);
    this.baseState = opts.state ?? {};
    this.state = new StateView(this.baseState);
    this.journal = new JournalWriter(engine.config.journalBytes);
  }

  /** Charge fuel for host work; the applet's own code charges itself through the metered global. */
  consumeFuel(amount: number): void {
    const g = this.fuelGlobal;
    if (!g) return;
    if (g.charge(amount)) throw new HostTrap(Trap.OutOfFuel, `out of fuel in a host call (limit ${this.fuelLimit})`);
  }

  /** The applet's memory as bytes, after checking [ptr, ptr+len) is inside it. */
  view(ptr: number, len: number, what: string): Uint8Array {
    const buf = this.memory!.buffer;
    const p = ptr >>> 0;
    const l = len >>> 0;
    if (p + l > buf.byteLength)
      throw new HostTrap(
        Trap.HostError,
        `${what}: range [${p}, ${p + l}) is outside the applet's memory of ${buf.byteLength} bytes`,
      );
    return new Uint8Array(buf, p, l);
  }

  /** splitmix64: tiny, well-mixed and fully determined by the input digest. */
  nextRandom(): bigint {
    // Seeded on first use: most applets never call random, and the seed is one more sha256.
    this.rng ??= BigInt("0x" + taggedDigest(DOMAIN.random, Buffer.from(this.inputDigest, "hex")).slice(0, 16));
    this.rng = (this.rng + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.rng;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}
