/**
 * Hashing and signature verification off the event loop: a pool of worker threads that grows with load (a second
 * worker starts only when the first is busy and work is waiting) and coalesces waiting requests into one message,
 * so a batch-verifying backend amortises across concurrent posts. workers: 0 runs inline (tests, tiny boards).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { EddsaBackend, VerifyItem } from "../device-sdk/index.ts";
import { checkItems, packChecks, unpackResults, type CheckItem, type CheckResult, type ReadingCheck } from "./check.ts";

export interface Verifier {
  verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]>;
  /** Hash readings and verify the signatures they carry: one { hash, valid } per reading (valid null if unsigned). */
  checkReadings(items: readonly ReadingCheck[]): Promise<{ hash: bigint; valid: boolean | null }[]>;
  /** Resolves when at least one worker (or the inline backend) is ready. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface VerifierOptions {
  backend: EddsaBackend;
  /** Most worker threads (default: available cores); 0 = verify on the calling thread. */
  workers?: number;
  /** Items per message to a worker (default 512). */
  maxItemsPerMessage?: number;
}

interface Job {
  items: readonly CheckItem[];
  resolve(r: CheckResult[]): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  /** Message id the worker is verifying. */
  current?: number;
}

export function createVerifier(opts: VerifierOptions): Verifier {
  const max = opts.workers ?? availableParallelism();
  const perMessage = opts.maxItemsPerMessage ?? 512;
  if (max === 0) {
    return {
      verifyBatch: async (items) => checkItems(opts.backend, items) as boolean[],
      checkReadings: async (items) => checkItems(opts.backend, items) as { hash: bigint; valid: boolean | null }[],
      ready: async () => {},
      close: async () => {},
    };
  }

  const slots: Slot[] = [];
  const queue: Job[] = [];
  const inflight = new Map<number, Job[]>();
  let nextId = 1;
  let closed = false;
  let scheduled = false;

  function spawn(): Slot {
    const worker = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
      // `mod`: circomlibjs pulls in the web-worker package, which treats every worker thread as one of its own and
      // loads workerData.mod; an empty script keeps it quiet.
      workerData: { entry: new URL("./verify-worker.ts", import.meta.url).href, backendName: opts.backend.name, mod: "data:text/javascript,", name: "mfi-verify" },
      execArgv: [],
    });
    let onReady!: () => void;
    let onFail!: (e: unknown) => void;
    const slot: Slot = { worker, busy: true, ready: new Promise((res, rej) => ((onReady = res), (onFail = rej))) };
    worker.on("message", (m: { ready?: true; id?: number; results?: CheckResult[]; packed?: BigUint64Array; error?: string }) => {
      if (m.packed) m.results = unpackResults(m.packed);
      if (m.ready) {
        slot.busy = false;
        // An idle worker must not keep the process alive; a busy or starting one must (someone awaits it).
        worker.unref();
        onReady();
      } else if (m.id !== undefined) {
        const jobs = inflight.get(m.id) ?? [];
        inflight.delete(m.id);
        let at = 0;
        for (const j of jobs) {
          if (m.results) j.resolve(m.results.slice(at, at + j.items.length));
          else j.reject(new Error(`verifier worker: ${m.error}`));
          at += j.items.length;
        }
        slot.busy = false;
        worker.unref();
      }
      pump();
    });
    worker.on("error", (e) => {
      onFail(e);
      // Jobs on a dead worker fail (the request gets a 500 and the device retries); the slot is replaced on demand.
      const jobs = slot.current === undefined ? undefined : inflight.get(slot.current);
      if (jobs) {
        inflight.delete(slot.current!);
        for (const j of jobs) j.reject(e);
      }
      slots.splice(slots.indexOf(slot), 1);
      pump();
    });
    slots.push(slot);
    return slot;
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      let slot = slots.find((s) => !s.busy);
      if (!slot) {
        if (slots.length < max) spawn();
        return;
      }
      // Share what is queued among the idle workers (batches from several devices spread over both cores) instead of
      // handing everything up to perMessage to the first one.
      const idleSlots = slots.filter((s) => !s.busy).length;
      let queued = 0;
      for (const j of queue) queued += j.items.length;
      const share = Math.min(perMessage, Math.ceil(queued / idleSlots));
      const jobs: Job[] = [];
      let n = 0;
      while (queue.length > 0 && (n === 0 || n + queue[0]!.items.length <= share)) {
        const j = queue.shift()!;
        jobs.push(j);
        n += j.items.length;
      }
      const id = nextId++;
      inflight.set(id, jobs);
      slot.busy = true;
      slot.current = id;
      slot.worker.ref();
      const items = jobs.flatMap((j) => j.items);
      const packed = packChecks(items);
      if (packed) slot.worker.postMessage({ id, packed }, [packed.buffer as ArrayBuffer]);
      else slot.worker.postMessage({ id, items });
      slot = undefined;
    }
  }

  function submit(items: readonly CheckItem[]): Promise<CheckResult[]> {
    if (closed) return Promise.reject(new Error("verifier is closed"));
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      queue.push({ items, resolve, reject });
      // Requests parsed in the same turn of the event loop go to the workers as one message (one structured clone
      // and one batch verification instead of one each).
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          pump();
        });
      }
    });
  }

  spawn();
  return {
    verifyBatch: (items) => submit(items) as Promise<boolean[]>,
    checkReadings: (items) => submit(items) as Promise<{ hash: bigint; valid: boolean | null }[]>,
    async ready() {
      if (slots.length === 0) spawn();
      await Promise.race(slots.map((s) => s.ready));
    },
    async close() {
      closed = true;
      for (const j of queue.splice(0)) j.reject(new Error("verifier closed"));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
