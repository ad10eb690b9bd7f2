/**
 * Issue 18 (follow-ups): an applet's state belongs to the device token, not to one signing key. PayoutVault keeps a
 * stateful applet's state per token (`stateOf`); DeviceRegistry maps each key to its token. The worker therefore
 * keeps its copy of the state under the token (for a device never rotated the token id is its key), hands it to the
 * run under the key that signed, and, before a run, checks it against the chain:
 *
 * - while an earlier claim of the token is unsettled (pending, proved, submitted), it continues from its own copy
 *   (those claims move the chain to where the copy continues from);
 * - once none is, the chain is the truth: when its copy is not the state the chain holds (a key rotation, a claim that
 *   failed for good, an epoch whose claim could not be paid, a restart), it re-syncs to the chain's state. The chain
 *   stores only a commitment, so the worker can continue only from a state whose preimage it knows: the empty state
 *   (no paid claim), or the state after the run of the token's last paid claim, which it replays (replay.ts's rule:
 *   same Wasm, readings and state in, same state out). When the last paid claim is not one it made (another operator
 *   paid it), it has no preimage: it runs from its own copy, the claim fails with the reason, and `note` says so.
 *
 * The proof still binds the state: whatever the worker chooses, the vault pays only a stateIn equal to its own.
 */
import { unpackEpoch, type EpochWindow } from "../device-sdk/index.ts";
import { stateRoot, type AppletState } from "../runtime/index.ts";
import type { ReadingStore, WorkerStore } from "../store/index.ts";
import type { AppletSpec, ChainPort, RunPort } from "./ports.ts";
import { decodeState, encodeState } from "./runtime-port.ts";

/** A key's token and its validity on chain, [validFromMs, validUntilMs) (validUntilMs 0: open). */
export interface KeyInfo {
  tokenId: bigint;
  validFromMs: bigint;
  validUntilMs: bigint;
}

export interface RunState {
  /** The state to run from, keyed by the device that runs (runtime AppletState JSON); undefined: none. */
  state: Uint8Array | undefined;
  /** The worker_state row the run's new state replaces: the device token. */
  owner: bigint;
  /** Set when the state was re-synced from the chain, or could not be. */
  note?: string;
}

/** How long a key's validity read from the chain is reused (one pass over the applets). */
const KEY_INFO_TTL_MS = 2000;

export class DeviceTokens {
  private readonly tokens = new Map<string, bigint>();
  private readonly infos = new Map<string, { at: number; info: KeyInfo | undefined }>();
  private readonly statelessUntil = new Map<string, number>();
  private lastGroups = new Map<bigint, bigint[]>();

  constructor(private readonly o: { chain: ChainPort; workerStore: WorkerStore; store: ReadingStore; run: RunPort }) {}

  /** The key's token and validity (cached briefly), or undefined when the chain does not know the key or cannot say. */
  async keyInfo(deviceId: bigint): Promise<KeyInfo | undefined> {
    if (!this.o.chain.keyOf) return undefined;
    const id = deviceId.toString();
    const hit = this.infos.get(id);
    if (hit && Date.now() - hit.at < KEY_INFO_TTL_MS) return hit.info;
    const info = await this.o.chain.keyOf(deviceId).catch(() => undefined);
    this.infos.set(id, { at: Date.now(), info });
    if (info) this.tokens.set(id, info.tokenId);
    return info;
  }

  /** The device token a key belongs to (a key's token never changes); the key itself when the chain cannot say. */
  async tokenOf(deviceId: bigint): Promise<bigint> {
    const known = this.tokens.get(deviceId.toString());
    if (known !== undefined) return known;
    return (await this.keyInfo(deviceId))?.tokenId ?? deviceId;
  }

  /**
   * Why a claim signed by this key for epoch `w` can never be paid (PayoutVault__KeyNotValid: the key was not the
   * token's key for the whole epoch, e.g. the epoch in which the key was rotated), or undefined when it can be (or
   * the chain cannot say: the claim then goes its usual way). Validity only ever shrinks, so the answer is final.
   */
  async notClaimable(deviceId: bigint, w: EpochWindow): Promise<string | undefined> {
    const info = await this.keyInfo(deviceId);
    if (!info) return undefined;
    const end = w.startMs + w.lengthMs;
    if (w.startMs >= info.validFromMs && (info.validUntilMs === 0n || end <= info.validUntilMs)) return undefined;
    const window = `[${info.validFromMs}, ${info.validUntilMs === 0n ? "open" : info.validUntilMs})`;
    const why =
      w.startMs < info.validFromMs
        ? "became the token's key after the epoch's start"
        : "was rotated or revoked before the epoch's end";
    return `not claimable: key ${hex(deviceId)} ${why} (valid ${window} ms, epoch [${w.startMs}, ${end})); the vault pays only a key valid for the whole epoch`;
  }

  /** The state a run of `applet` for `deviceId` in `epoch` starts from (see the header). */
  async stateFor(a: { applet: AppletSpec; deviceId: bigint; epoch: bigint }): Promise<RunState> {
    const owner = await this.tokenOf(a.deviceId);
    const imageId = a.applet.imageId;
    const local = await this.o.workerStore.getState(imageId, owner);
    const mine = { owner, state: rekey(local, a.deviceId) };
    if (!this.o.chain.stateOf || (this.statelessUntil.get(imageId) ?? 0) > Date.now()) return mine;
    const keys = await this.keysFor(a.deviceId);
    for (const k of keys)
      if ((await this.o.workerStore.unsettledEpochs(imageId, k.toString())).some((e) => e < a.epoch)) return mine;
    const chain = await this.o.chain.stateOf(imageId, owner).catch(() => undefined);
    if (!chain) return mine; // the chain cannot say: the claim goes its usual way
    if (chain.state === 0n) {
      // not a stateful applet (AppletRegistry.setStateful is set once, at registration): asked again in a minute
      this.statelessUntil.set(imageId, Date.now() + 60_000);
      return mine;
    }
    if (chain.lastEpoch === 0n) {
      if (!entryOf(local)) return mine;
      return { owner, state: undefined, note: `re-synced to the empty state: no claim of token ${hex(owner)} is paid` };
    }
    // the preimage of the chain's commitment: the state after the run of the token's last paid claim, if ours
    for (const k of keys) {
      const claim = await this.o.workerStore.claimAt(imageId, k.toString(), chain.lastEpoch);
      if (claim?.state !== "paid" || !claim.calldata) continue;
      const stateOut = (JSON.parse(claim.calldata) as { stateOut?: string }).stateOut;
      if (stateOut === undefined || BigInt(stateOut) !== chain.state) continue;
      const run = await this.o.workerStore.getRun(claim.run_id);
      if (!run) break;
      const entry = entryOf(local);
      if (entry && stateRoot({ [run.device_id]: entry }) === run.state_root) return mine;
      const readings = await this.o.store.listReadings({
        deviceId: BigInt(run.device_id),
        fromSeq: BigInt(run.from_seq),
        toSeq: BigInt(run.to_seq),
        limit: 1_000_000,
      });
      const replayed =
        readings.length === run.reading_count
          ? await this.o.run({
              applet: a.applet,
              epoch: unpackEpoch(BigInt(run.epoch)),
              deviceId: BigInt(run.device_id),
              readings,
              state: run.state_before ? new Uint8Array(run.state_before) : undefined,
            })
          : undefined;
      if (!replayed || replayed.trap || replayed.stateRoot !== run.state_root) break;
      return {
        owner,
        state: rekey(replayed.state, a.deviceId),
        note: `re-synced from the chain: token ${hex(owner)}'s state after its last paid epoch (run ${run.id}, replayed)`,
      };
    }
    return {
      ...mine,
      note: `cannot re-sync token ${hex(owner)}: the chain's state (paid epoch ${chain.lastEpoch}) is not one this worker made or can replay; its next claim starts from the worker's own state and fails if that differs`,
    };
  }

  /**
   * A token's keys: those of the last `groups` call, else the key and its token (a token id is also its first key,
   * which covers a device rotated once; a submitter process that runs no epochs knows no more).
   */
  async keysFor(deviceId: bigint): Promise<bigint[]> {
    const token = await this.tokenOf(deviceId);
    const keys = new Set([token, deviceId, ...(this.lastGroups.get(token) ?? [])]);
    return [...keys];
  }

  /** The devices grouped by token: each token's keys among `devices` (a token id is also its first key). */
  async groups(devices: readonly bigint[]): Promise<Map<bigint, bigint[]>> {
    const out = new Map<bigint, bigint[]>();
    this.lastGroups = out;
    for (const d of devices) {
      const t = await this.tokenOf(d);
      const keys = out.get(t) ?? (t === d ? [] : [t]);
      if (!keys.includes(d)) keys.push(d);
      out.set(t, keys);
    }
    return out;
  }
}

/** The runtime's state JSON, or undefined for bytes in another RunPort's own format (left as they are). */
function decoded(bytes: Uint8Array | undefined): AppletState | undefined {
  try {
    const s = decodeState(bytes);
    return s && typeof s === "object" && !Array.isArray(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The one device entry of a stored state (the worker runs one device per run), if it holds any key. */
function entryOf(bytes: Uint8Array | undefined): Record<string, string> | undefined {
  const s = decoded(bytes);
  const entry = s && Object.values(s).find((kv) => Object.keys(kv).length > 0);
  return entry;
}

/** The state with its entry under `deviceId`, the key the run signs with (unchanged when it already is). */
function rekey(bytes: Uint8Array | undefined, deviceId: bigint): Uint8Array | undefined {
  const s = decoded(bytes);
  if (!s) return bytes;
  const id = deviceId.toString();
  const ids = Object.keys(s);
  if (ids.length === 1 && ids[0] === id) return bytes;
  const entry = entryOf(bytes);
  return entry ? encodeState({ [id]: entry } satisfies AppletState) : undefined;
}

const hex = (x: bigint) => {
  const s = `0x${x.toString(16)}`;
  return s.length > 14 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
};
