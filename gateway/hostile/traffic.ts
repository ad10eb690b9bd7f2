/**
 * Hostile traffic against a running gateway, for test/hostile-load.test.ts and the `ingest_attack` bench: strangers on
 * their own loopback addresses (127.0.0.2, …; the gateway budgets failures per address, so they must not share the
 * honest fleet's) send, all at once and until stopped:
 *   junk       unparseable and schema-violating bodies to honest devices' reading routes
 *   forged     1,000-reading batches for honest devices, signed by another key, first seq/prev not the stored head's
 *   badsig     single readings for honest devices with a signature of another key
 *   register   registration spam: valid registrations of fresh keys and bodies with a wrong proof of key
 *   head       HEAD scans of the operator routes without an API key
 *   live       live-feed requests from wallets that hold no subscription (when the gateway serves a market)
 * Each request is answered (any status) before the next on its connection: the load is as heavy as the gateway lets it be.
 */
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import { Wallet } from "ethers";
import {
  requestAccess,
  type EddsaBackend,
  type SignedAccessRequest,
  type WireReading,
} from "../../device-sdk/index.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";

export const ATTACK_KINDS = ["junk", "forged", "badsig", "register", "head", "live"] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export interface AttackOptions {
  /** The gateway's base URL (http://127.0.0.1:port). */
  url: string;
  /** Honest devices' ids: the attackers post for them. */
  victims: readonly bigint[];
  backend: EddsaBackend;
  /** Source addresses of the attackers (default 127.0.0.2–127.0.0.5), one keep-alive agent each. */
  localAddresses?: readonly string[];
  /** The chain and DeviceRegistry registrations name (default the dev values of gateway/testing.ts). */
  chainId?: bigint;
  registry?: string;
  /** Called once the payloads are built, just before the first request. */
  onReady?: () => void;
  /** Connections per kind (default 2). */
  connections?: number;
  signal: AbortSignal;
}

export interface AttackReport {
  /** Requests answered per kind, by HTTP status. */
  answered: Record<AttackKind, Record<number, number>>;
  /** Requests that failed below HTTP (connection refused or reset). */
  socketErrors: number;
}

interface Shot {
  method: "POST" | "HEAD";
  path: string;
  body?: string;
}

function send(agent: Agent, base: URL, shot: Shot): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: shot.path,
        method: shot.method,
        agent,
        headers: shot.body
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(shot.body) }
          : undefined,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(shot.body);
  });
}

/** What each kind sends next: payloads are built once (signing is the attacker's cost, not what is measured). */
async function arsenal(o: AttackOptions, base: URL): Promise<Record<AttackKind, () => Shot | undefined>> {
  const stranger = testKey(o.backend, 0x5eed);
  // Another key's readings relabelled as the victim's: from seq 1 (a "resend" of a prefix that does not match the
  // stored one) and from far ahead (first seq is not head + 1): both must be refused before any signature work.
  const relabel = (wire: WireReading[], victim: bigint, seqOffset: bigint) =>
    wire.map((w) => ({ ...w, deviceId: victim.toString(), seq: (BigInt(w.seq) + seqOffset).toString() }));
  const chain = makeChain(o.backend, stranger, 1000, { signMode: "last" }).wire;
  const forged = o.victims.flatMap((v) =>
    [0n, 1_000_000n].map((off) => ({ v, body: JSON.stringify({ readings: relabel(chain, v, off) }) })),
  );
  const signedByStranger = makeChain(o.backend, stranger, 2, { signMode: "every" }).wire;
  const singles = o.victims.flatMap((v) =>
    relabel(signedByStranger, v, 0n).map((w) => ({ v, body: JSON.stringify(w) })),
  );
  const junk = [
    "{",
    '{"readings":',
    "[]",
    '{"seq":"x"}',
    JSON.stringify({ readings: [{ seq: "1" }] }),
    "\u0000".repeat(64),
  ];
  const registrations = Array.from({ length: 64 }, (_, i) =>
    registrationBody(o.backend, testKey(o.backend, 90_000 + i), undefined, o.chainId, o.registry),
  );
  const wrongProof = registrations.map((r, i) => ({
    ...r,
    publicKey: registrations[(i + 1) % registrations.length]!.publicKey,
  }));
  let live: SignedAccessRequest[] = [];
  try {
    const info = (await (await fetch(new URL("/v1/market", base))).json()) as { chainId?: string; market?: string };
    if (info.chainId && info.market)
      live = await Promise.all(
        Array.from({ length: 16 }, () =>
          requestAccess({
            url: base.href,
            signer: Wallet.createRandom(),
            streamId: 1n,
            deviceId: o.victims[0] ?? 1n,
            chainId: BigInt(info.chainId!),
            market: info.market!,
            live: true,
            ttlSeconds: 600,
          }),
        ),
      );
  } catch {
    live = []; // no market at this gateway: the kind sends nothing
  }
  let n = 0;
  const victim = () => o.victims[n++ % o.victims.length]!;
  return {
    junk: () => ({ method: "POST", path: `/v1/devices/${victim()}/readings`, body: junk[n % junk.length] }),
    forged: () => {
      const { v, body } = forged[n++ % forged.length]!;
      return { method: "POST", path: `/v1/devices/${v}/readings/batch`, body };
    },
    badsig: () => {
      const { v, body } = singles[n++ % singles.length]!;
      return { method: "POST", path: `/v1/devices/${v}/readings`, body };
    },
    register: () => ({
      method: "POST",
      path: "/v1/devices",
      body: JSON.stringify(n % 2 ? registrations[n % registrations.length] : wrongProof[n % wrongProof.length]),
    }),
    head: () => ({ method: "HEAD", path: n % 2 ? "/v1/devices" : `/v1/devices/${victim()}/readings` }),
    live: () =>
      live.length
        ? { method: "POST", path: "/v1/market/streams/1/live", body: JSON.stringify(live[n % live.length]) }
        : undefined,
  };
}

/** Runs every kind of attack until `signal` aborts; resolves with what was answered. */
export async function runAttack(o: AttackOptions): Promise<AttackReport> {
  const base = new URL(o.url);
  const shots = await arsenal(o, base);
  const addresses = o.localAddresses ?? ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
  const agents = addresses.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 64, localAddress }));
  const report: AttackReport = {
    answered: Object.fromEntries(ATTACK_KINDS.map((k) => [k, {}])) as AttackReport["answered"],
    socketErrors: 0,
  };
  const loop = async (kind: AttackKind, agent: Agent) => {
    while (!o.signal.aborted) {
      const shot = shots[kind]();
      if (!shot) return;
      try {
        const { status } = await send(agent, base, shot);
        report.answered[kind][status] = (report.answered[kind][status] ?? 0) + 1;
      } catch {
        report.socketErrors++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const conns = o.connections ?? 2;
  o.onReady?.();
  await Promise.all(
    ATTACK_KINDS.flatMap((kind, k) =>
      Array.from({ length: conns }, (_, c) => loop(kind, agents[(k + c) % agents.length]!)),
    ),
  );
  for (const a of agents) a.destroy();
  return report;
}

/** Total answered requests of a report, optionally of one kind. */
export function answeredCount(r: AttackReport, kind?: AttackKind): number {
  const kinds: readonly AttackKind[] = kind ? [kind] : ATTACK_KINDS;
  let n = 0;
  for (const k of kinds) for (const c of Object.values(r.answered[k])) n += c;
  return n;
}
