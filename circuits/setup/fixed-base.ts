/**
 * A small pool of child processes computing [s]G for many known scalars s (the dev setup knows its toxic waste, so
 * every key point is a fixed-base multiplication). Output is snarkjs's LEM affine encoding (Montgomery, little-endian
 * x‖y), optionally also the uncompressed encoding snarkjs hashes into the circuit hash.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";

export type Group = "G1" | "G2";
export const POINT_BYTES: Record<Group, number> = { G1: 64, G2: 128 };
const CHUNK = 8192;

interface Job {
  id: number;
  resolve: (r: { lem: Uint8Array; u?: Uint8Array }) => void;
  reject: (e: Error) => void;
}

export class FixedBasePool {
  private workers: ChildProcess[] = [];
  private idle: ChildProcess[] = [];
  private queue: { msg: { id: number; group: Group; scalars: Uint8Array; wantU: boolean }; job: Job }[] = [];
  private pending = new Map<number, Job>();
  private nextId = 0;
  private closing = false;

  constructor(size = Math.max(1, Math.min(availableParallelism(), 4))) {
    for (let i = 0; i < size; i++) {
      const w = fork(fileURLToPath(new URL("./fixed-base-worker.mjs", import.meta.url)), [], {
        serialization: "advanced",
        execArgv: [],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      w.on("message", (m: { id: number; ready?: boolean; lem?: Uint8Array; u?: Uint8Array; error?: string }) => {
        if (m.ready) return;
        const job = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.error) job.reject(new Error(m.error));
        else job.resolve({ lem: m.lem!, u: m.u });
        this.idle.push(w);
        this.pump();
      });
      w.on("exit", (code) => {
        if (this.closing) return;
        for (const job of this.pending.values()) job.reject(new Error(`fixed-base worker exited with code ${code}`));
        this.pending.clear();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { msg, job } = this.queue.shift()!;
      this.pending.set(msg.id, job);
      w.send(msg);
    }
  }

  private chunk(group: Group, scalars: Uint8Array, wantU: boolean): Promise<{ lem: Uint8Array; u?: Uint8Array }> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.queue.push({ msg: { id, group, scalars, wantU }, job: { id, resolve, reject } });
      this.pump();
    });
  }

  /** [s_i]G for every scalar (any bigint, reduced by the caller into [0, r)), in order. */
  async multiply(
    group: Group,
    scalars: readonly bigint[],
    opts: { wantU?: boolean; onProgress?: (done: number) => void } = {},
  ): Promise<{ lem: Uint8Array; u?: Uint8Array }> {
    const size = POINT_BYTES[group];
    const lem = new Uint8Array(scalars.length * size);
    const u = opts.wantU ? new Uint8Array(scalars.length * size) : undefined;
    let done = 0;
    const parts: Promise<void>[] = [];
    for (let start = 0; start < scalars.length; start += CHUNK) {
      const n = Math.min(CHUNK, scalars.length - start);
      const buf = new Uint8Array(n * 32);
      const dv = new DataView(buf.buffer);
      for (let i = 0; i < n; i++) {
        let x = scalars[start + i]!;
        for (let k = 0; k < 4; k++) {
          dv.setBigUint64(i * 32 + k * 8, x & 0xffffffffffffffffn, true);
          x >>= 64n;
        }
      }
      parts.push(
        this.chunk(group, buf, !!u).then((r) => {
          lem.set(r.lem, start * size);
          if (u && r.u) u.set(r.u, start * size);
          done += n;
          opts.onProgress?.(done);
        }),
      );
    }
    await Promise.all(parts);
    return { lem, u };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((res) => (w.exitCode !== null ? res() : (w.once("exit", () => res()), w.disconnect()))),
      ),
    );
  }
}
