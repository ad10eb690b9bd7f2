/**
 * Issue 22: in `mfi dev`, a new version of the applet retires the ones before it, so one version is paid for each new
 * device-epoch (four edits were four versions paid for the same readings).
 *
 * Retiring is two steps. At once, the worker stops running the old version for the epochs the new one runs (from the
 * epoch running when it was registered); it still closes the epochs that started before (one that ended a moment ago
 * may not have been run yet), and every claim goes through proving and payment. Once those epochs are closed and no
 * claim is left to settle, the old version is paused on L1 (AppletRegistry.setPaused), so nobody is paid for it any more. It is
 * not paused at once because PayoutVault refuses every claim of a paused applet, those of earlier epochs included.
 * Saving an old version again (an undo) un-retires it: added to the worker again and resumed on L1.
 */
import type { Devnet } from "./devnet/devnet.ts";
import { alignToSchedule } from "../worker/index.ts";

const SETTLED = new Set(["paid", "failed"]);

export class VersionRetirer {
  /** Retired versions waiting to be paused on L1: imageId → the start of the first epoch it no longer runs (ms). */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly net: Pick<Devnet, "worker" | "admin" | "epochMs">,
    private readonly log: (m: string) => void,
    private readonly label: (imageId: string) => string = (id) => id.slice(0, 8),
    private readonly now: () => number = Date.now,
  ) {}

  /** Versions retired and not paused on L1 yet. */
  get pending(): string[] {
    return [...this.waiting.keys()];
  }

  /** Whether the worker holds `imageId` as retired (read before it is added again, which un-retires it). */
  async isRetired(imageId: string): Promise<boolean> {
    const a = (await this.net.worker.workerStore.listApplets()).find((x) => x.spec.imageId === imageId);
    return a !== undefined && a.retiredAtMs !== null;
  }

  /**
   * `current` (just registered and added to the worker) replaces every other version of the applet `name` the worker
   * runs: each is retired in the worker and queued to be paused on L1. `current` itself is resumed on L1 if an earlier
   * retirement paused it. `wasRetired` (isRetired before it was added again): its epochs start now, not where it
   * stopped (those epochs were the other versions').
   */
  async replace(name: string, current: string, wasRetired = false): Promise<string[]> {
    const ws = this.net.worker.workerStore;
    this.waiting.delete(current);
    const spec = wasRetired ? await ws.getApplet(current) : undefined;
    if (spec?.schedule)
      await ws.setCursor(current, alignToSchedule(this.now(), spec.schedule.lengthMs, spec.schedule.genesisMs));
    const from = (await ws.listApplets()).find((a) => a.spec.imageId === current)?.cursorMs ?? this.now();
    if ((await this.net.admin.appletOf(current)).paused) {
      await this.net.admin.setAppletPaused({ imageId: current, paused: false });
      this.log(`${this.label(current)} resumed on L1 (an earlier version saved again)`);
    }
    const retired: string[] = [];
    for (const a of await ws.listApplets()) {
      if (a.spec.name !== name || a.spec.imageId === current || a.retiredAtMs !== null) continue;
      if (!(await ws.retireApplet(a.spec.imageId, from))) continue;
      this.waiting.set(a.spec.imageId, from);
      retired.push(a.spec.imageId);
      this.log(
        `retired ${this.label(a.spec.imageId)}: epochs from ${new Date(from).toISOString()} on are ${this.label(current)}'s; its earlier epochs and claims still settle, then it is paused on L1`,
      );
    }
    return retired;
  }

  /**
   * Pauses on L1 each retired version whose epochs before its retirement are all closed (its cursor reached it) and
   * none of whose claims is left to settle.
   */
  async pauseSettled(): Promise<string[]> {
    if (this.waiting.size === 0) return [];
    const ws = this.net.worker.workerStore;
    const open = new Set((await ws.listClaims(1000)).filter((c) => !SETTLED.has(c.state)).map((c) => c.image_id));
    const cursors = new Map((await ws.listApplets()).map((a) => [a.spec.imageId, a.cursorMs]));
    const paused: string[] = [];
    for (const [id, from] of this.waiting) {
      if (open.has(id) || (cursors.get(id) ?? from) < from) continue;
      this.waiting.delete(id);
      if (!(await this.net.admin.appletOf(id)).paused)
        await this.net.admin.setAppletPaused({ imageId: id, paused: true });
      paused.push(id);
      this.log(`${this.label(id)} paused on L1: its claims settled, nothing more is paid for it`);
    }
    return paused;
  }
}
