/**
 * Proving off the main thread: a pool of child processes (prove-worker.mjs), one proof at a time each, so several
 * proofs run on both cores. Child processes rather than worker threads because snarkjs's ffjavascript starts its
 * own worker threads through a web-worker shim that breaks inside a worker thread.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { proverBackend } from "./native/loader.ts";
import type { CircuitInput } from "./witness.ts";
import { ProvingError } from "./errors.ts";

export interface RawProof {
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
  publicSignals: string[];
  witnessMs: number;
  totalMs: number;
  /** CPU time of the proving process, all its threads (a load-independent measure next to wall time). */
  cpuMs: number;
  /** [stage, ms since start] as snarkjs reported them. */
  stages: [string, number][];
  /** Peak RSS of the proving process so far (KiB). */
  maxRssKb: number;
  /** Who made the proof: the native or Wasm prover (circuits/native, circuits/wasm-prover; verified before use) or snarkjs. */
  backend?: "native" | "wasm" | "snarkjs";
  /** Why snarkjs made it although the native prover was chosen. */
  fallback?: string;
  /** The proving key was read from disk for this proof (false: it was in the process's memory, e.g. warmed). */
  keyRead?: boolean;
}

/**
 * The backend this process's pools prove with (circuits/native/loader.ts: the built addon when it passes its
 * self-check, unless MFI_PROVER=snarkjs) and why; proving processes of the native backend start with the TypeScript
 * loader, which the native module needs.
 */
export function poolBackend(): { backend: "native" | "wasm" | "snarkjs"; reason: string } {
  const { backend, reason } = proverBackend();
  return { backend, reason };
}

/**
 * One line naming the prover this process uses, for start-up output (`mfi worker start`, `mfi prove`, the devnet).
 * `fallback` is true when the native prover was wanted but could not be used (not built, does not load, failed its
 * self-check): proofs are still right, only several times slower, so callers warn and say what to do.
 */
export function proverSummary(): { backend: "native" | "wasm" | "snarkjs"; line: string; fallback: boolean } {
  const { backend, reason } = poolBackend();
  if (backend === "native") return { backend, line: "proofs: the native Groth16 prover", fallback: false };
  if (backend === "wasm") {
    const forced = reason.startsWith("MFI_PROVER=wasm");
    return {
      backend,
      fallback: !forced,
      line: forced
        ? "proofs: the Wasm Groth16 prover (MFI_PROVER=wasm)"
        : `⚠ proofs: the Wasm Groth16 prover (one thread, several times slower than native): ${reason}; run \`npm run build\` (needs g++ and make) and restart`,
    };
  }
  const forced = reason === "MFI_PROVER=snarkjs";
  return {
    backend,
    fallback: !forced,
    line: forced
      ? "proofs: snarkjs (MFI_PROVER=snarkjs)"
      : `⚠ proofs: snarkjs, about 4× slower: ${reason}; run \`npm run build\` (needs g++ and make) and restart`,
  };
}
const LOADER = new URL("./prove-loader.mjs", import.meta.url).href;

interface Job {
  id: number;
  msg: { id: number; input: CircuitInput; wasm: string; zkey: string };
  resolve: (r: RawProof) => void;
  reject: (e: Error) => void;
  onProgress?: (stage: string) => void;
}

/** What the proving processes hold in memory (circuits/native/prove.ts's key cache), summed over the processes. */
export interface KeyCacheCounters {
  /** Proving keys read from disk (by warm-ups and proofs). */
  reads: number;
  /** Proofs that found their key in memory. */
  hits: number;
  /** Keys and their bytes held now (a key costs its .zkey's size, per process). */
  keys: number;
  bytes: number;
}

export interface WarmReport {
  /** Proving processes running (spawned at warm-up, not at the first job). */
  processes: number;
  backend: "native" | "wasm" | "snarkjs";
  /** Keys each process holds in memory after the warm-up, and those that did not fit its budget (or are unreadable). */
  loaded: string[];
  skipped: string[];
  /** Keys one process holds in memory (all warm-ups so far), their bytes, and its budget (MFI_PROVER_KEY_CACHE_MB). */
  keysPerProcess: number;
  bytesPerProcess: number;
  budgetPerProcess: number;
  /** Witness modules compiled ahead in one process, all warm-ups so far (optimised code, ~4× faster witnesses). */
  compiled: number;
  /** This warm-up's time, and the time since the pool started its first process (worker start → warm). */
  ms: number;
  sinceStartMs: number;
  /** The pool was closed before the warm-up finished. */
  closed?: boolean;
}

type CacheMsg = { reads: number; hits: number; keys: number; bytes: number; budget: number };
type ChildMsg = { id?: number; ready?: boolean; progress?: string; error?: string; cache?: CacheMsg } & {
  warmed?: number;
  backend?: "native" | "wasm" | "snarkjs";
  loaded?: string[];
  skipped?: string[];
  ms?: number;
  compiled?: number;
} & Partial<RawProof>;

export class ProverPool {
  private idle: ChildProcess[] = [];
  private all: ChildProcess[] = [];
  private queue: Job[] = [];
  private running = new Map<ChildProcess, Job>();
  private nextId = 0;
  private closed = false;
  private spawned = 0;
  private startedAt: number | undefined;
  /** Circuits warmed so far (undefined: never warmed); warmedOnce: the first warm-up has been sent. */
  private warmList: { zkey: string; wasm?: string }[] | undefined;
  private warmedOnce = false;
  private caches = new Map<ChildProcess, CacheMsg>();
  private warms = new Map<number, { pending: Set<ChildProcess>; done: (m: ChildMsg) => void }>();
  private nextWarm = 0;

  constructor(readonly concurrency = 1) {}

  /** Processes started so far (a warmed pool starts all of them before its first job) and the key cache's counts. */
  counters(): { spawned: number; running: number } & KeyCacheCounters {
    const c = { spawned: this.spawned, running: this.all.length, reads: 0, hits: 0, keys: 0, bytes: 0 };
    for (const m of this.caches.values())
      ((c.reads += m.reads), (c.hits += m.hits), (c.keys += m.keys), (c.bytes += m.bytes));
    return c;
  }

  /** The running proving processes' ids (tests check none outlives close()). */
  pids(): number[] {
    return this.all.flatMap((c) => (c.pid ? [c.pid] : []));
  }

  private spawn(): ChildProcess {
    // The native and Wasm backends are TypeScript modules: their proving processes start with the loader.
    const native = poolBackend().backend !== "snarkjs";
    const child = fork(fileURLToPath(new URL("./prove-worker.mjs", import.meta.url)), [], {
      serialization: "advanced",
      // A warmed pool's processes compile Wasm optimised and eagerly: circom's witness calculators run 4–6× faster
      // than on Liftoff's baseline code (energy-sum K=16: ~0.2 s instead of ~0.8 s), the compile (seconds per
      // circuit) paid once, at warm-up. A pool never warmed (one-shot proofs: mfi prove, tests) keeps V8's defaults,
      // where that compile would cost more than it saves.
      execArgv: [
        ...(native ? ["--import", LOADER] : []),
        ...(this.warmList ? ["--no-liftoff", "--no-wasm-lazy-compilation"] : []),
      ],
      env: { ...process.env, MFI_PROVER_NATIVE: native ? "1" : "0" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.spawned++;
    this.startedAt ??= performance.now();
    child.on("message", (m: ChildMsg) => {
      if (m.cache) this.caches.set(child, m.cache);
      if (m.warmed !== undefined) return this.warmedBy(child, m);
      const job = this.running.get(child);
      if (m.ready || !job || m.id !== job.id) return;
      if (m.progress) return job.onProgress?.(m.progress);
      this.running.delete(child);
      this.idle.push(child);
      if (m.error)
        job.reject(
          new ProvingError(`proving failed: ${m.error.split("\n")[0]}`, {
            details: "the inputs violate the circuit's constraints (witness) or the keys are unreadable",
            cause: m.error,
          }),
        );
      else {
        const { cache: _c, ...raw } = m;
        job.resolve(raw as RawProof);
      }
      this.pump();
    });
    // A send to a process that just died (Ctrl-C to the process group) fails with EPIPE as an 'error' event: without
    // a listener that crashed the parent; the 'exit' handler below settles its job.
    child.on("error", () => {});
    child.on("exit", (code, signal) => {
      this.all = this.all.filter((c) => c !== child);
      this.idle = this.idle.filter((c) => c !== child);
      this.caches.delete(child);
      for (const [, w] of this.warms) if (w.pending.delete(child) && !w.pending.size) w.done({});
      const job = this.running.get(child);
      this.running.delete(child);
      // Ctrl-C reaches the whole process group, provers included: say so instead of guessing at memory.
      const stopped = signal === "SIGINT" || signal === "SIGTERM" || this.closed;
      if (job)
        job.reject(
          stopped
            ? new ProvingError(`the proving process was stopped (${signal ?? "pool closed"}) before finishing`, {
                details: "the proof is retried when the worker runs again",
              })
            : new ProvingError(`the proving process exited (${signal ?? `code ${code}`}) before finishing`, {
                details: "out of memory? try a smaller K or fewer concurrent proofs",
              }),
        );
      if (!this.closed) this.pump();
    });
    this.all.push(child);
    // A process started after the warm-up (one replacing a crashed one) is warmed with everything warmed so far.
    if (this.warmList?.length && this.warmedOnce) child.send({ warm: this.warmList, warmId: -1 });
    return child;
  }

  private warmedBy(child: ChildProcess, m: ChildMsg): void {
    const w = this.warms.get(m.warmed!);
    if (w?.pending.delete(child) && !w.pending.size) w.done(m);
  }

  /**
   * Starts every proving process now (not at the first job), lets each choose its backend (the self-check) and read
   * the given proving keys (and the circuits' witness .wasm files) into memory, in order, while they fit its key
   * budget. Resolves when all processes are warm (never rejects: a key that cannot be read is in `skipped`, and its
   * proof will say why). Jobs sent meanwhile wait for their process's warm-up, then find their key cached. Calling it
   * again loads more keys (new applets).
   */
  warm(circuits: readonly { zkey: string; wasm?: string }[] = []): Promise<WarmReport> {
    const t0 = performance.now();
    const backend = poolBackend().backend;
    const report = (m: ChildMsg, closed = false): WarmReport => {
      const cache = [...this.caches.values()][0];
      return {
        processes: this.all.length,
        backend: m.backend ?? backend,
        loaded: m.loaded ?? [],
        skipped: m.skipped ?? (closed ? circuits.map((c) => c.zkey) : []),
        keysPerProcess: cache?.keys ?? 0,
        bytesPerProcess: cache?.bytes ?? 0,
        budgetPerProcess: cache?.budget ?? 0,
        compiled: m.compiled ?? 0,
        ms: performance.now() - t0,
        sinceStartMs: this.startedAt === undefined ? 0 : performance.now() - this.startedAt,
        ...(closed ? { closed } : {}),
      };
    };
    if (this.closed) return Promise.resolve(report({}, true));
    const known = new Set((this.warmList ??= []).map((c) => c.zkey));
    const fresh = circuits.filter((c) => !known.has(c.zkey));
    while (this.all.length < this.concurrency) this.idle.push(this.spawn());
    this.warmList.push(...fresh);
    this.warmedOnce = true;
    const warmId = this.nextWarm++;
    return new Promise((resolve) => {
      const pending = new Set(this.all);
      this.warms.set(warmId, {
        pending,
        done: (m) => {
          this.warms.delete(warmId);
          resolve(report(m, this.closed));
        },
      });
      const msg = { warm: circuits.map((c) => ({ zkey: c.zkey, wasm: c.wasm })), warmId };
      for (const c of pending) c.send(msg);
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let child = this.idle.pop();
      if (!child && this.all.length < this.concurrency) child = this.spawn();
      if (!child) return;
      const job = this.queue.shift()!;
      this.running.set(child, job);
      child.send(job.msg);
    }
  }

  prove(input: CircuitInput, wasm: string, zkey: string, onProgress?: (stage: string) => void): Promise<RawProof> {
    if (this.closed) return Promise.reject(new ProvingError("the prover pool is closed"));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.queue.push({ id, msg: { id, input, wasm, zkey }, resolve, reject, onProgress });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue) j.reject(new ProvingError("the prover pool was closed"));
    this.queue = [];
    await Promise.all(
      this.all.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            c.once("exit", () => res());
            // One proving a job ends once it finishes it (prove-worker.mjs exits on 'disconnect'); one idle or still
            // starting or warming (loading its modules or keys) is ended now.
            if (this.running.has(c) && c.connected) c.disconnect();
            else c.kill("SIGTERM");
          }),
      ),
    );
  }
}
