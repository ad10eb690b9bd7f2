/**
 * The load generator of the MQTT ingest bench (gateway/mqtt/bench.ts), on a thread of its own. It is not the system
 * under test: it stands for a fleet of devices that signed and serialized their readings long before, so every
 * PUBLISH packet (topic, response topic, correlation data, payload) is encoded before the clock starts and sent as
 * bytes on a plain socket; only its 2-byte packet id is written at send time. Answers are framed and read by hand
 * (status user property, correlation data). It still costs CPU on the cores it shares with the broker and the gateway:
 * its own CPU time is measured (/proc/thread-self) and reported beside the gateway's.
 */
import { connect, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { ackTopic, readingsTopic } from "../../device-sdk/index.ts";
import { threadCpuUs } from "../bench-cpu.ts";

export interface PublisherData {
  url: string;
  protocolVersion: 4 | 5;
  streams: { deviceId: string; payloads: string[] }[];
}
/** Publish readings [from, to) of every stream, each device's in order (next after the previous answer). */
export interface PublisherRun {
  from: number;
  to: number;
  /** open-loop pacing: reading i of stream d is due at start + (i - from + d / streams) × intervalMs */
  intervalMs?: number;
}
export interface PublisherResult {
  accepted: number;
  ms: number;
  latencies: number[];
  /** CPU time of this thread over the run, µs (undefined where /proc is missing) */
  cpuUs: number | undefined;
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const str = (s: string | Buffer): Buffer => {
  const b = typeof s === "string" ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const packet = (first: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);

/** A QoS 1 PUBLISH, and where its packet id sits. */
function publishPacket(v5: boolean, topic: string, payload: string, reply?: { topic: string; corr: string }) {
  const t = str(topic);
  const props = v5
    ? Buffer.concat([Buffer.from([0x08]), str(reply!.topic), Buffer.from([0x09]), str(reply!.corr)])
    : undefined;
  const body = Buffer.concat([
    t,
    Buffer.alloc(2),
    ...(props ? [Buffer.from(varint(props.length)), props] : []),
    Buffer.from(payload),
  ]);
  const bytes = packet(0x32, body);
  return { bytes, idAt: bytes.length - body.length + t.length };
}

const { url, protocolVersion, streams } = workerData as PublisherData;
const v5 = protocolVersion === 5;
const u = new URL(url);
const socket: Socket = connect(Number(u.port), u.hostname);
socket.setNoDelay(true);
await new Promise<void>((res, rej) => (socket.once("connect", res), socket.once("error", rej)));

// Pre-encoded: one packet per reading, correlation "d<stream>_<index>" (MQTT 5 property, or the 3.1.1 topic level).
const packets = streams.map((s, d) =>
  s.payloads.map((p, i) => {
    const corr = `d${d}_${i}`;
    return v5
      ? publishPacket(true, readingsTopic(s.deviceId), p, { topic: ackTopic(s.deviceId, "bench"), corr })
      : publishPacket(false, readingsTopic(s.deviceId, corr), p);
  }),
);

/** Answers by correlation; control packets (CONNACK, SUBACK, PUBACK) to `control`. */
const waiting = new Map<string, (status: number) => void>();
let control: ((type: number, body: Buffer) => void) | undefined;
let buf: Buffer = Buffer.alloc(0);
// The publishes that answers release in one turn leave in one write, as the gateway's answers do (subscriber.ts).
let corked = false;
const corkTurn = () => {
  if (corked) return;
  corked = true;
  socket.cork();
  setImmediate(() => {
    corked = false;
    socket.uncork();
  });
};
socket.on("data", (chunk: Buffer) => {
  corkTurn();
  buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
  for (;;) {
    let len = 0;
    let mul = 1;
    let at = 1;
    for (; at < buf.length && at < 5; at++) {
      len += (buf[at]! & 0x7f) * mul;
      mul *= 128;
      if (!(buf[at]! & 0x80)) break;
    }
    if (at >= buf.length || buf.length < at + 1 + len) return;
    const type = buf[0]! >> 4;
    const body = buf.subarray(at + 1, at + 1 + len);
    buf = buf.subarray(at + 1 + len);
    if (type === 3) onAnswer(buf.length ? Buffer.from(body) : body);
    else if (type === 4) {
      // PUBACK: an MQTT 5 reason code ≥ 0x80 means the broker refused the publish
      if (body.length > 2 && body[2]! >= 0x80)
        throw new Error(`broker refused a publish: reason 0x${body[2]!.toString(16)}`);
    } else control?.(type, body);
  }
});

/** An answer (QoS 0 PUBLISH): its correlation and status ("status" user property; 3.1.1: the body's shape). */
function onAnswer(b: Buffer): void {
  const tl = b.readUInt16BE(0);
  const topic = b.toString("utf8", 2, 2 + tl);
  let at = 2 + tl;
  let corr: string | undefined;
  let status = 0;
  if (v5) {
    let plen = 0;
    let mul = 1;
    for (;;) {
      const x = b[at++]!;
      plen += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) break;
    }
    const end = at + plen;
    while (at < end) {
      const id = b[at++]!;
      const l1 = b.readUInt16BE(at);
      if (id === 0x09) corr = b.toString("latin1", at + 2, at + 2 + l1);
      if (id === 0x03 || id === 0x08 || id === 0x09) at += 2 + l1;
      else if (id === 0x26) {
        const key = b.toString("utf8", at + 2, at + 2 + l1);
        const l2 = b.readUInt16BE(at + 2 + l1);
        if (key === "status") status = Number(b.toString("utf8", at + 4 + l1, at + 4 + l1 + l2));
        at += 4 + l1 + l2;
      } else throw new Error(`unexpected MQTT 5 property 0x${id.toString(16)} in an answer`);
    }
  } else {
    corr = topic.slice(topic.lastIndexOf("/") + 1);
    status = b[at + 2] === 0x61 /* '{"a' of {"acks":…} */ ? 201 : 400;
  }
  const done = corr === undefined ? undefined : waiting.get(corr);
  if (done) {
    waiting.delete(corr!);
    done(status);
  }
}

function expect(type: number): Promise<Buffer> {
  return new Promise((res) => (control = (t, b) => t === type && res(b)));
}
const clientId = Buffer.from(`mfi-bench-pub-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
// CONNECT: clean start, keep-alive 0 (no pings during a run)
const connectBody = Buffer.concat([
  str("MQTT"),
  Buffer.from([protocolVersion, 0x02, 0, 0, ...(v5 ? [0] : [])]),
  str(clientId),
]);
const connack = expect(2);
socket.write(packet(0x10, connectBody));
const ca = await connack;
if (ca[1] !== 0) throw new Error(`the broker refused the bench publisher: CONNACK 0x${ca[1]!.toString(16)}`);
const suback = expect(9);
socket.write(
  packet(
    0x82,
    Buffer.concat([Buffer.from([0, 1, ...(v5 ? [0] : [])]), str(ackTopic("+", v5 ? "bench" : "+")), Buffer.from([0])]),
  ),
);
const sa = await suback;
if (sa[sa.length - 1]! >= 0x80) throw new Error("the broker refused the bench publisher's subscription");

let nextId = 0;
async function run(r: PublisherRun): Promise<PublisherResult> {
  const latencies: number[] = [];
  let accepted = 0;
  const c0 = threadCpuUs();
  const t0 = performance.now();
  await Promise.all(
    packets.map(async (list, d) => {
      for (let i = r.from; i < Math.min(r.to, list.length); i++) {
        if (r.intervalMs) {
          const wait = t0 + (i - r.from + d / packets.length) * r.intervalMs - performance.now();
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        }
        const { bytes, idAt } = list[i]!;
        bytes.writeUInt16BE((nextId++ % 65535) + 1, idAt);
        const t = performance.now();
        const answered = new Promise<number>((res) => waiting.set(`d${d}_${i}`, res));
        socket.write(bytes);
        const status = await answered;
        latencies.push(performance.now() - t);
        if (status !== 201) throw new Error(`MQTT ingest answered ${status}`);
        accepted++;
      }
    }),
  );
  const ms = performance.now() - t0;
  const c1 = threadCpuUs();
  return { accepted, ms, latencies, cpuUs: c0 === undefined || c1 === undefined ? undefined : c1 - c0 };
}

parentPort!.on("message", (m: PublisherRun | { close: true }) => {
  if ("close" in m) {
    socket.end(Buffer.from([0xe0, 0]));
    parentPort!.close();
    return;
  }
  run(m).then(
    (res) => parentPort!.postMessage(res),
    (e: Error) => parentPort!.postMessage({ error: e.message }),
  );
});
parentPort!.postMessage({ ready: true });
