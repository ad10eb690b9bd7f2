/**
 * The live feed: after an authorised request, push every newly signed stretch of the device's chain as one SSE
 * `readings` event (each event ends in a signed reading, so it verifies on its own), until the subscription expires
 * on chain time (`end` event) or the buyer disconnects. The buyer may extend the subscription meanwhile: expiry is
 * re-read from DataMarket before ending.
 */
import type { SSEStreamingApi } from "hono/streaming";
import { storedReadingJson } from "../routes/readings.ts";
import type { ReadingStore } from "../../store/index.ts";
import type { Authorised, MarketDeps } from "./access.ts";
import { signedSince } from "./history.ts";

const HEARTBEAT_MS = 15_000;

export interface LiveOptions {
  /** How often to look for new readings (default 250 ms). */
  pollMs: number;
  /** How often to read chain time and the subscription (default 1000 ms). */
  chainPollMs: number;
}

export async function runLiveFeed(
  stream: SSEStreamingApi,
  o: {
    store: ReadingStore;
    deps: MarketDeps;
    auth: Authorised;
    publicKey: { x: bigint; y: bigint };
    live: LiveOptions;
  },
): Promise<void> {
  const { request } = o.auth;
  let expiresAt = o.auth.expiresAt;
  let next = request.fromSeq > 0n ? request.fromSeq : ((await o.store.lastReading(request.deviceId))?.seq ?? 0n) + 1n;
  let aborted = false;
  stream.onAbort(() => {
    aborted = true;
  });
  await stream.writeSSE({
    event: "ready",
    data: JSON.stringify({
      streamId: request.streamId.toString(),
      deviceId: request.deviceId.toString(),
      publicKey: { x: o.publicKey.x.toString(), y: o.publicKey.y.toString() },
      fromSeq: next.toString(),
      expiresAt: expiresAt.toString(),
    }),
  });
  let lastChainCheck = Date.now();
  let lastWrite = Date.now();
  let chainFailures = 0;
  let id = 0;
  try {
    while (!aborted) {
      if (Date.now() - lastChainCheck >= o.live.chainPollMs) {
        lastChainCheck = Date.now();
        let reason: string | undefined;
        try {
          const t = await o.deps.reader.chainTime();
          if (t >= expiresAt) {
            expiresAt = await o.deps.reader.expiresAt(request.streamId, request.buyer);
            if (t >= expiresAt) reason = "expired";
          }
          chainFailures = 0;
        } catch {
          // one failed RPC call does not end a paid feed; a node that stays down does
          if (++chainFailures >= 3) reason = "chain-unavailable";
        }
        if (reason) {
          await stream.writeSSE({ event: "end", data: JSON.stringify({ reason, expiresAt: expiresAt.toString() }) });
          return;
        }
      }
      const rows = await signedSince(o.store, request.deviceId, next);
      if (rows.length) {
        await stream.writeSSE({
          event: "readings",
          id: String(++id),
          data: JSON.stringify({ deviceId: request.deviceId.toString(), readings: rows.map(storedReadingJson) }),
        });
        next = rows[rows.length - 1]!.seq + 1n;
        lastWrite = Date.now();
        continue;
      }
      // a comment now and then keeps proxies from closing a quiet feed
      if (Date.now() - lastWrite >= HEARTBEAT_MS) {
        await stream.write(": ping\n\n");
        lastWrite = Date.now();
      }
      await stream.sleep(o.live.pollMs);
    }
  } catch (err) {
    // the buyer left or the gateway is shutting down (store closed): nothing to tell anyone
    if (!aborted && !stream.closed) throw err;
  }
}
