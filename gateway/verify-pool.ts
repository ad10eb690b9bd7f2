/**
 * Hashing and signature verification off the event loop: a pool of worker threads that grows with load (a second
 * worker starts only when the first is busy and work is waiting) and coalesces waiting requests into one message,
 * so a batch-verifying backend amortises across concurrent posts. workers: 0 runs inline (tests, tiny boards).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { EddsaBackend, VerifyItem } from "../device-sdk/index.ts";
import { checkItems, packChecks, unpackResults, type CheckItem, type CheckResult, type ReadingCheck } from "./check.ts";
import { GatewayError } from "./errors.ts";

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
  /** Items waiting for a worker before new work is refused with 503 (default 4 messages per worker). */
  maxQueuedItems?: number;
  /** A message a worker has not answered after this long fails its requests with 503 and the worker is replaced (default 30 s). */
  jobTimeoutMs?: number;
  /** After a worker failed to start, wait this long before starting another (default 1 s). */
  restartDelayMs?: number;
}

/** 503s: the device keeps its readings and retries after Retry-After; nothing was stored. */
const busy = (msg: string, details: string) =>
  new GatewayError(503, "overloaded", msg, { details, headers: { "retry-after": "1" } });

interface Job {
  items: readonly CheckItem[];
  resolve(r: CheckResult[]): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  started: boolean;
  dead: boolean;
  /** Rejects `ready` (a no-op once it resolved). */
  failed(e: unknown): void;
  /** Message id the worker is verifying, and its timeout. */
  current?: number;
  timer?: NodeJS.Timeout;
}

export function createVerifier(opts: VerifierOptions): Verifier {
  // circomlibjs (MFI_EDDSA=js, a debugging backend) is never run on verifier threads: a process whose threads loaded it
  // aborted now and then ("free(): invalid pointer", 3 test runs in 16; none in 14 with the Wasm backend).
  const max = opts.backend.name === "circomlibjs" ? 0 : (opts.workers ?? availableParallelism());
  const perMessage = opts.maxItemsPerMessage ?? 512;
  const maxQueued = opts.maxQueuedItems ?? 4 * perMessage * Math.max(1, max);
  const jobTimeoutMs = opts.jobTimeoutMs ?? 30_000;
  const restartDelayMs = opts.restartDelayMs ?? 1000;
  /** How long close() lets a starting thread finish its start before terminating it. */
  const closeWaitMs = 15_000;
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
  let queuedItems = 0;
  /** When a worker last failed to start, no new one starts before this time; why it failed. */
  let restartAt = 0;
  let startError: string | undefined;

  function spawn(): Slot {
    const worker = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
      // `mod`: circomlibjs pulls in the web-worker package, which treats every worker thread as one of its own and
      // loads workerData.mod; an empty script keeps it quiet.
      workerData: {
        entry: new URL("./verify-worker.ts", import.meta.url).href,
        backendName: opts.backend.name,
        mod: "data:text/javascript,",
        name: "mfi-verify",
      },
      execArgv: [],
    });
    let onReady!: () => void;
    let onFail!: (e: unknown) => void;
    const slot: Slot = {
      worker,
      busy: true,
      started: false,
      dead: false,
      ready: new Promise((res, rej) => ((onReady = res), (onFail = rej))),
      failed: (e) => onFail(e),
    };
    // Threads start lazily under load; a start-up failure must not become an unhandled rejection (a crash).
    slot.ready.catch(() => {});
    worker.on(
      "message",
      (m: { ready?: true; id?: number; results?: CheckResult[]; packed?: BigUint64Array; error?: string }) => {
        if (m.packed) m.results = unpackResults(m.packed);
        if (m.ready) {
          slot.busy = false;
          slot.started = true;
          startError = undefined;
          // An idle worker must not keep the process alive; a busy or starting one must (someone awaits it).
          worker.unref();
          onReady();
        } else if (m.id !== undefined) {
          clearTimeout(slot.timer);
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
      },
    );
    worker.on("error", (e) => fail(slot, e));
    // A thread that exits without an error event (process.exit in a backend, an OOM kill) would leave its jobs hanging.
    worker.on("exit", (code) => fail(slot, new Error(`verifier thread exited with code ${code}`)));
    slots.push(slot);
    return slot;
  }

  /** A worker died (failed to start, crashed, exited, timed out): its jobs get 503 and the slot is replaced on demand. */
  function fail(slot: Slot, e: unknown): void {
    if (slot.dead) return;
    slot.dead = true;
    clearTimeout(slot.timer);
    slot.failed(e);
    onFailStart(slot, e);
    const jobs = slot.current === undefined ? undefined : inflight.get(slot.current);
    if (jobs) {
      inflight.delete(slot.current!);
      for (const j of jobs)
        j.reject(
          busy(
            "a verifier thread failed while checking this request",
            `nothing was stored; retry (${(e as Error)?.message ?? e})`,
          ),
        );
    }
    slots.splice(slots.indexOf(slot), 1);
    if (!closed) void slot.worker.terminate();
    pump();
  }

  function onFailStart(slot: Slot, e: unknown): void {
    if (slot.started) return;
    startError = (e as Error)?.message ?? String(e);
    restartAt = Date.now() + restartDelayMs;
    // No thread can take the waiting work now: refuse it rather than let it wait for a start that may never succeed.
    if (slots.every((s) => s === slot || !s.started)) rejectQueued();
  }

  function rejectQueued(): void {
    const err = busy("no verifier thread is running", `the last one failed to start (${startError}); retry later`);
    for (const j of queue.splice(0)) j.reject(err);
    queuedItems = 0;
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      let slot = slots.find((s) => !s.busy);
      if (!slot) {
        if (slots.length < max && Date.now() >= restartAt) spawn();
        else if (slots.length === 0) rejectQueued();
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
        queuedItems -= j.items.length;
        jobs.push(j);
        n += j.items.length;
      }
      const id = nextId++;
      inflight.set(id, jobs);
      slot.busy = true;
      slot.current = id;
      slot.worker.ref();
      const stuck = slot;
      slot.timer = setTimeout(() => fail(stuck, new Error(`no answer within ${jobTimeoutMs} ms`)), jobTimeoutMs);
      slot.timer.unref();
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
    // Bounded: work beyond what the threads clear in about a second is refused at once instead of making every
    // request (honest ones too) wait behind it. One request alone is always taken, whatever its size.
    if (queuedItems > 0 && queuedItems + items.length > maxQueued)
      return Promise.reject(
        busy(
          "the gateway is verifying as much as it can",
          `${queuedItems} items are waiting; nothing was stored, retry after a second`,
        ),
      );
    if (slots.length === 0 && Date.now() < restartAt)
      return Promise.reject(
        busy("no verifier thread is running", `the last one failed to start (${startError}); retry later`),
      );
    return new Promise((resolve, reject) => {
      queue.push({ items, resolve, reject });
      queuedItems += items.length;
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
      for (const sl of slots) clearTimeout(sl.timer);
      // A thread still starting is loading tsx's module hooks and circomlibjs: terminating it then can corrupt the
      // process's heap (seen as "free(): invalid next size" aborts of a test process that had just closed a pool
      // right after a lazy start). Let starting threads finish (or fail) first, for a bounded time.
      const starting = slots.filter((sl) => !sl.started && !sl.dead).map((sl) => sl.ready.catch(() => {}));
      if (starting.length) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(starting), new Promise((r) => (timer = setTimeout(r, closeWaitMs)))]);
        clearTimeout(timer);
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
