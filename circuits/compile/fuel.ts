/**
 * A static upper bound of the fuel a run of the applet uses for one device and up to K readings (docs/fuel.md): the
 * executor adds a region's cost each time it enters a function body or a loop iteration, and a host call's charge
 * at each call, over every path it explores (a real run's regions are a subset of those). A region's cost counts
 * every instruction in it (both if-arms, early exits included) but not nested loop bodies, which pay per iteration;
 * the metering pass charges each region once on entry with at most that. Each instruction is counted with
 * `SCRATCH` more for the local.set/local.get pair binaryen may add when it rebuilds stack code into trees.
 */
import { FUEL_COSTS, HOST_FUEL } from "../../runtime/index.ts";
import { NUMERIC, type Instr } from "./decode.ts";
import type { Val } from "./value.ts";

const SCRATCH = 2;

function cost(i: Instr): number {
  switch (i.op) {
    case "block":
      return FUEL_COSTS.block;
    case "loop":
      return FUEL_COSTS.loop;
    case "if":
      return FUEL_COSTS.if;
    case "br":
    case "br_if":
    case "br_table":
      return FUEL_COSTS.br;
    case "unreachable":
      return FUEL_COSTS.unreachable;
    case "call":
      return FUEL_COSTS.call;
    case "call_indirect":
      return FUEL_COSTS.call_indirect;
    case "load":
    case "store":
      return FUEL_COSTS["load/store"];
    case "memory.grow":
      return FUEL_COSTS["memory.grow"];
    case "memory.copy":
    case "memory.fill":
      return FUEL_COSTS["memory.copy/fill/init"];
    case "num":
      return /^(div|rem)_/.test(NUMERIC[i.a!]![0]) ? FUEL_COSTS["div/rem"] : FUEL_COSTS["unary/binary"];
  }
  return 1; // const, locals, globals, select, drop, return, memory.size
}

const regions = new WeakMap<Instr[], number>();

/** The most a region (a function body or one loop iteration) can be charged on entry. */
export function regionFuel(body: Instr[]): number {
  let r = regions.get(body);
  if (r !== undefined) return r;
  r = 0;
  for (const i of body) {
    r += cost(i) + SCRATCH;
    if (i.op === "block" || i.op === "if") r += regionFuel(i.body!) + (i.else ? regionFuel(i.else) : 0);
  }
  regions.set(body, r);
  return r;
}

const most = (v: Val | undefined): number => {
  if (!v) return 0;
  if (v.kind === "c") return Number(BigInt.asUintN(32, v.c));
  if (v.kind === "n") return Number(v.t.reduce((a, b) => (b > a ? b : a), 0n) & 0xffffffffn);
  return v.lo < 0n || v.hi > 0xffffffffn ? 0xffffffff : Number(v.hi);
};

/** The most the host charges for one call (linker.ts: a base plus one unit per 8 bytes moved). */
export function hostFuel(name: string, args: Val[]): number {
  const bytes =
    name === "log" || name === "emit"
      ? most(args[1])
      : name === "input_read"
        ? most(args[2])
        : name === "claim"
          ? 40
          : 0;
  const base = name.startsWith("state_") ? HOST_FUEL.stateCall : HOST_FUEL.call;
  return base + Math.ceil(bytes / HOST_FUEL.bytesPerUnit) + 64;
}
