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
 * An answer whose last paid epoch is before the latest epoch the worker saw paid comes from a node behind (a stateful
 * payment sets it): the worker keeps its copy. A chain read that fails or times out is never taken for "nothing
 * paid" or "key unknown": ChainReadError, and the run waits for the next pass (a stored run is never redone).
 *
 * The proof still binds the state: whatever the worker chooses, the vault pays only a stateIn equal to its own.
 */
import { unpackEpoch, type EpochWindow } from "../device-sdk/index.ts";
import { stateRoot, type AppletState } from "../runtime/index.ts";
import type { ReadingStore, WorkerStore } from "../store/index.ts";
import { ChainReadError } from "./errors.ts";
import type { AppletSpec, ChainPort, RunPort } from "./ports.ts";
import { decodeState, encodeState } from "./runtime-port.ts";

/** A key's token and its validity on chain, [validFromMs, validUntilMs) (validUntilMs 0: open). */
export interface KeyInfo {
  tokenId: bigint;
  validFromMs: bigint;
  validUntilMs: bigint;
}

/**
 * Why a key valid over [validFromMs, validUntilMs) (0: open) is not valid for the whole epoch, if it is not: what the
 * vaults check of a key before paying it for an epoch (PayoutVault's claims, BatchVault's first and withdrawn credits).
 */
export function keyWindowRefusal(
  key: Pick<KeyInfo, "validFromMs" | "validUntilMs">,
  w: EpochWindow,
): string | undefined {
  const end = w.startMs + w.lengthMs;
  if (w.startMs >= key.validFromMs && (key.validUntilMs === 0n || end <= key.validUntilMs)) return undefined;
  const window = `[${key.validFromMs}, ${key.validUntilMs === 0n ? "open" : key.validUntilMs})`;
  const why =
    w.startMs < key.validFromMs
      ? "became the token's key after the epoch's start"
      : "was rotated or revoked before the epoch's end";
  return `${why} (valid ${window} ms, epoch [${w.startMs}, ${end}))`;
}

export interface RunState {
  /** The state to run from, keyed by the device that runs (runtime AppletState JSON); undefined: none. */
  state: Uint8Array | undefined;
  /** The worker_state row the run's new state replaces: the device token. */
  owner: bigint;
  /** Set when the state was re-synced from the chain, or could not be. */
  note?: string;
}

/** Issue 18 review: how long a chain read on the run path may take before the run waits for the next pass. */
export const CHAIN_READ_TIMEOUT_MS = 5000;
/**
 * How long a key's validity, or "the chain does not know this key", is reused (one pass over the applets). Short for
 * both: a rotation shrinks the old key's validity, and a new key is unknown until its rotation is mined or the node
 * answering has seen it (a minute of "unknown" would run a stateful applet under the new key as its own token).
 */
const KEY_INFO_TTL_MS = 2000;
/**
 * After a failed chain read, how long the run path's reads fail at once: one timeout per pass (newPass asks again),
 * not per device; a runner process, which makes no passes, asks again after this long.
 */
const FAILED_READ_TTL_MS = 10_000;

export class DeviceTokens {
  private readonly tokens = new Map<string, bigint>();
  private readonly infos = new Map<string, { at: number; info: KeyInfo | undefined }>();
  private readonly statelessUntil = new Map<string, number>();
  private readonly statefulImages = new Set<string>();
  private down: { until: number; err: ChainReadError } | undefined;

  constructor(
    private readonly o: {
      chain: ChainPort;
      workerStore: WorkerStore;
      store: ReadingStore;
      run: RunPort;
      /** Default CHAIN_READ_TIMEOUT_MS. */
      readTimeoutMs?: number;
      /** Default FAILED_READ_TTL_MS. */
      failedReadTtlMs?: number;
    },
  ) {}

  /**
   * One chain read (the run path's, and the submitter's stateOf), bounded by the timeout: a failure or a timeout is a
   * ChainReadError (never "the chain does not know"), and the reads of the next FAILED_READ_TTL_MS fail at once with it.
   */
  async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    if (this.down && Date.now() < this.down.until) throw this.down.err;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.o.readTimeoutMs ?? CHAIN_READ_TIMEOUT_MS;
    try {
      return await Promise.race([
        f(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "TIMEOUT" })),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      const err = new ChainReadError(what, { cause: e as Error, details: (e as Error).message });
      this.down = { until: Date.now() + (this.o.failedReadTtlMs ?? FAILED_READ_TTL_MS), err };
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A new pass over the applets: the chain is asked again (a failed read fails the rest of a pass at once). */
  newPass(): void {
    this.down = undefined;
  }

  /**
   * Whether the applet is stateful on chain (PayoutVault.stateOf answers a non-zero state: AppletRegistry.setStateful
   * is set once, at registration; "stateless" is asked again after a minute). Throws ChainReadError when the chain
   * cannot say.
   */
  async stateful(imageId: string, deviceId: bigint): Promise<boolean> {
    const stateOf = this.o.chain.stateOf;
    if (!stateOf) return false;
    if (this.statefulImages.has(imageId)) return true;
    if ((this.statelessUntil.get(imageId) ?? 0) > Date.now()) return false;
    const s = await this.read(`PayoutVault.stateOf(${imageId.slice(0, 10)}…)`, () => stateOf(imageId, deviceId));
    if (s.state === 0n) {
      this.statelessUntil.set(imageId, Date.now() + 60_000);
      return false;
    }
    this.statefulImages.add(imageId);
    return true;
  }

  /**
   * The key's token and validity (cached briefly), or undefined when the chain does not know the key (an owner of
   * zero) or the port cannot ask. Throws ChainReadError when the read fails or times out.
   */
  async keyInfo(deviceId: bigint): Promise<KeyInfo | undefined> {
    const keyOf = this.o.chain.keyOf;
    if (!keyOf) return undefined;
    const id = deviceId.toString();
    const hit = this.infos.get(id);
    if (hit && Date.now() - hit.at < KEY_INFO_TTL_MS) return hit.info;
    const info = await this.read(`DeviceRegistry.claimInfo(${hex(deviceId)})`, () => keyOf(deviceId));
    this.infos.set(id, { at: Date.now(), info });
    if (info) this.tokens.set(id, info.tokenId);
    return info;
  }

  /**
   * The device token a key belongs to (a key's token never changes); the key itself when the chain does not know it.
   * Throws ChainReadError when the chain cannot say.
   */
  async tokenOf(deviceId: bigint): Promise<bigint> {
    const known = this.tokens.get(deviceId.toString());
    if (known !== undefined) return known;
    return (await this.keyInfo(deviceId))?.tokenId ?? deviceId;
  }

  /**
   * Why a claim signed by this key for epoch `w` can never be paid (PayoutVault__KeyNotValid: the key was not the
   * token's key for the whole epoch, e.g. the epoch in which the key was rotated), or undefined when it can be (or
   * the chain does not know the key: the claim then goes its usual way). Validity only ever shrinks, so the answer is
   * final. When the chain cannot say: ChainReadError, or with `keepWhenUnknown` (a stateless applet: nothing else
   * depends on the answer) undefined: the claim is kept, and fails KeyNotValid if it was the rotation epoch's.
   */
  async notClaimable(deviceId: bigint, w: EpochWindow, keepWhenUnknown = false): Promise<string | undefined> {
    let info: KeyInfo | undefined;
    try {
      info = await this.keyInfo(deviceId);
    } catch (e) {
      if (keepWhenUnknown && e instanceof ChainReadError) return undefined;
      throw e;
    }
    if (!info) return undefined;
    const why = keyWindowRefusal(info, w);
    return why && `not claimable: key ${hex(deviceId)} ${why}; the vault pays only a key valid for the whole epoch`;
  }

  /**
   * The state a run of a stateful `applet` for `deviceId` in `epoch` starts from (see the header). Throws
   * ChainReadError when the chain cannot say (the run is not stored; the next pass runs it again).
   */
  async stateFor(a: { applet: AppletSpec; deviceId: bigint; epoch: bigint }): Promise<RunState> {
    const owner = await this.tokenOf(a.deviceId);
    const imageId = a.applet.imageId;
    const local = await this.o.workerStore.getState(imageId, owner);
    const mine = { owner, state: rekey(local, a.deviceId) };
    const stateOf = this.o.chain.stateOf;
    if (!stateOf) return mine;
    // the token's claims under any of its keys (worker_claims.token_id), whichever process ran them
    if ((await this.o.workerStore.tokenUnsettledEpochs(imageId, owner)).some((e) => e < a.epoch)) return mine;
    const chain = await this.read(`PayoutVault.stateOf(token ${hex(owner)})`, () => stateOf(imageId, owner));
    if (chain.state === 0n) return mine; // not a stateful applet
    // A stateful payment sets the chain's lastEpoch to its epoch: an answer before the latest epoch this worker saw
    // paid comes from a node behind (a load balancer's), not from the chain's truth. The copy continues from that
    // payment (nothing later is unsettled): keep it; re-syncing would drop that payment's state.
    const paid = await this.o.workerStore.lastPaidEpoch(imageId, owner);
    if (paid !== undefined && chain.lastEpoch < paid) return mine;
    if (chain.lastEpoch === 0n) {
      if (!entryOf(local)) return mine;
      return { owner, state: undefined, note: `re-synced to the empty state: no claim of token ${hex(owner)} is paid` };
    }
    // the preimage of the chain's commitment: the state after the run of the token's last paid claim, if ours
    replay: {
      const claim = await this.o.workerStore.tokenClaimAt(imageId, owner, chain.lastEpoch);
      if (claim?.state !== "paid" || !claim.calldata) break replay;
      const stateOut = (JSON.parse(claim.calldata) as { stateOut?: string }).stateOut;
      if (stateOut === undefined || BigInt(stateOut) !== chain.state) break replay;
      const run = await this.o.workerStore.getRun(claim.run_id);
      if (!run) break replay;
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
      if (!replayed || replayed.trap || replayed.stateRoot !== run.state_root) break replay;
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
