/**
 * A gateway process for the MQTT crash and shared-subscription tests: SQLite file + MQTT ingest, one stdout line per
 * event ("ready", "answered <status> <topic>", and with --hang before|after "delivered"/"committed" before it stops
 * forever, so the parent can kill -9 it exactly between broker delivery and commit, or between commit and answer).
 */
import { buildJsBackend } from "../device-sdk/index.ts";
import { createGateway } from "../gateway/index.ts";
import { startMqttIngest } from "../gateway/mqtt/subscriber.ts";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const say = (line: string) => process.stdout.write(`${line}\n`);

// Several of these processes append to one file: no per-process head cache (see OpenStoreOptions.headCache).
const gw = await createGateway({
  dbPath: arg("db")!,
  storeOptions: { headCache: false },
  backend: await buildJsBackend(),
  verifyWorkers: 0,
  maxClockSkewMs: null,
  rateLimit: false,
});
const hang = arg("hang");
if (hang) {
  const store = gw.ingestContext.ingest.store;
  const append = store.appendReadings.bind(store);
  store.appendReadings = async (...args) => {
    if (hang === "before") say("delivered");
    else {
      await append(...args);
      say("committed");
    }
    return new Promise<never>(() => undefined);
  };
}
const share = arg("share")!;
await startMqttIngest({
  url: arg("url")!,
  ctx: gw.ingestContext,
  protocolVersion: Number(arg("protocol")) as 4 | 5,
  shareGroup: share === "none" ? false : share,
  onReply: (reply, info) => say(`answered ${reply.status} ${info.topic}`),
});
say("ready");
