/**
 * The dashboard's batches (issue 26): the latest batches the worker formed for applets credited through BatchVault,
 * each with its applet, epoch, devices (of the circuit's N), state, transaction and gas per device. Read from the
 * worker's status (WorkerStatus.listBatches: an index walk, capped); the section is left out when there are none.
 */
import { unpackEpoch } from "../../device-sdk/index.ts";
import type { BatchState, WorkerStatus } from "../../store/index.ts";
import { age, num, seconds, timeRange } from "./format.ts";

export interface DashboardBatch {
  id: number;
  imageId: string;
  applet: string | null;
  epoch: string;
  epochStart: number;
  epochEnd: number;
  state: BatchState;
  /** Devices credited by the batch, and the batch circuit's size N. */
  devices: number;
  n: number;
  txHash: string | null;
  gasUsed: number | null;
  proveMs: number | null;
  error: string | null;
  updatedAt: number;
}

/** The latest `limit` batches, newest first, with their applets' names. */
export async function loadBatches(
  w: Pick<WorkerStatus, "listBatches">,
  limit: number,
  nameOf: (imageId: string) => string | null,
): Promise<DashboardBatch[]> {
  return (await w.listBatches(limit)).map((b) => {
    const e = unpackEpoch(BigInt(b.epoch));
    return {
      id: b.id,
      imageId: b.image_id,
      applet: nameOf(b.image_id),
      epoch: b.epoch,
      epochStart: Number(e.startMs),
      epochEnd: Number(e.startMs + e.lengthMs),
      state: b.state,
      devices: b.devices,
      n: b.n,
      txHash: b.tx_hash,
      gasUsed: b.gas_used,
      proveMs: b.prove_ms,
      error: b.error,
      updatedAt: b.updated_at_ms,
    };
  });
}

const short = (s: string, n = 14) => (s.length > n + 2 ? `${s.slice(0, n)}…` : s);
/** A batch's state in the claims' colours: credited is paid, proving is pending. */
const colour: Record<BatchState, string> = {
  proving: "pending",
  proved: "proved",
  submitted: "submitted",
  credited: "paid",
  failed: "failed",
};

export function BatchesSection({ batches, now }: { batches: DashboardBatch[]; now: number }) {
  if (batches.length === 0) return <></>;
  return (
    <>
      <h2>Batches</h2>
      <p class="shown">
        one proof and one transaction credit up to N devices of an applet for an epoch; owners withdraw from BatchVault
        · proving → proved → submitted → credited | failed (a failed batch's claims go to a later batch)
      </p>
      <table id="batches">
        <thead>
          <tr>
            <th class="num">batch</th>
            <th>applet</th>
            <th>epoch (UTC)</th>
            <th class="num">devices</th>
            <th>state</th>
            <th class="num">age</th>
            <th class="num">proving</th>
            <th>tx</th>
            <th class="num">gas</th>
            <th class="num">gas per device</th>
          </tr>
        </thead>
        <tbody>
          {batches.map((b) => (
            <tr data-batch={String(b.id)} data-state={b.state}>
              <td class="num">#{b.id}</td>
              <td class="applet" title={b.imageId}>
                {b.applet ?? short(b.imageId, 10)}
              </td>
              <td class="epoch" title={`epoch ${b.epoch}`}>
                {timeRange(b.epochStart, b.epochEnd)}
              </td>
              <td class="num">
                {b.devices} of {b.n}
              </td>
              <td class={`state state-${colour[b.state]}`}>
                {b.state}
                {b.error ? <span class="error">{b.error}</span> : ""}
              </td>
              <td class="num age">{age(now - b.updatedAt)}</td>
              <td class="num">{b.proveMs === null ? "" : seconds(b.proveMs)}</td>
              <td title={b.txHash ?? ""}>{b.txHash ? short(b.txHash) : ""}</td>
              <td class="num">{b.gasUsed === null ? "" : num(b.gasUsed)}</td>
              <td class="num">{b.gasUsed === null || !b.devices ? "" : num(Math.round(b.gasUsed / b.devices))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
