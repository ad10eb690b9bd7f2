/**
 * The MQTT topic layout, written once for the device SDK's transport and the gateway (gateway/mqtt):
 *   mfi/v1/devices/{deviceId}/readings          publish, MQTT 5: the reply goes to the responseTopic property
 *   mfi/v1/devices/{deviceId}/readings/{corr}   publish, MQTT 3.1.1 (no properties): the reply goes to …/acks/{corr}
 *   mfi/v1/devices/{deviceId}/acks[/…]          the only topics the gateway ever publishes to
 * Replies are confined to the device's own acks subtree so a publisher cannot make the gateway write into the
 * readings topics (a loop through its own subscription) or into another device's replies.
 */
export const TOPIC_ROOT = "mfi/v1/devices";
export const DEFAULT_SHARE_GROUP = "gateways";

const DIGITS = /^(0|[1-9][0-9]{0,99})$/;
/** A correlation level in a 3.1.1 topic: short, and no MQTT wildcard or separator. */
const CORR = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_REPLY_TOPIC = 256;

export const readingsTopic = (deviceId: string | bigint, corr?: string) =>
  `${TOPIC_ROOT}/${deviceId}/readings${corr === undefined ? "" : `/${corr}`}`;
export const ackTopic = (deviceId: string | bigint, sub?: string) =>
  `${TOPIC_ROOT}/${deviceId}/acks${sub === undefined ? "" : `/${sub}`}`;

/** The filters a gateway subscribes to; `$share/{group}/…` splits messages across the gateways of one group. */
export function ingestFilters(shareGroup: string | false): string[] {
  const plain = [`${TOPIC_ROOT}/+/readings`, `${TOPIC_ROOT}/+/readings/+`];
  return shareGroup === false ? plain : plain.map((f) => `$share/${shareGroup}/${f}`);
}

export type ParsedTopic =
  { ok: true; deviceId: string; corr?: string } | { ok: false; segment: string; reason: string };

/** Split a readings topic. `segment` (the device level, whatever it holds) keys the failure budget even when invalid. */
export function parseReadingsTopic(topic: string): ParsedTopic {
  const parts = topic.split("/");
  const segment = parts[3] ?? "";
  if (
    parts.length < 5 ||
    parts.length > 6 ||
    `${parts[0]}/${parts[1]}/${parts[2]}` !== TOPIC_ROOT ||
    parts[4] !== "readings"
  )
    return { ok: false, segment, reason: `the topic is not ${TOPIC_ROOT}/{deviceId}/readings[/{correlation}]` };
  if (!DIGITS.test(segment))
    return { ok: false, segment, reason: "the topic's deviceId is not a non-negative decimal integer" };
  if (parts.length === 6) {
    if (!CORR.test(parts[5]!))
      return { ok: false, segment, reason: "the topic's correlation level must be 1-64 characters of [A-Za-z0-9_-]" };
    return { ok: true, deviceId: segment, corr: parts[5] };
  }
  return { ok: true, deviceId: segment };
}

/** May the gateway answer on `responseTopic` for a message on device `deviceId`'s topic? */
export function replyTopicAllowed(responseTopic: string, deviceId: string): boolean {
  const own = ackTopic(deviceId);
  if (responseTopic.length > MAX_REPLY_TOPIC || /[+#\u0000]/.test(responseTopic)) return false;
  return (
    responseTopic === own ||
    (responseTopic.startsWith(`${own}/`) &&
      !responseTopic
        .slice(own.length + 1)
        .split("/")
        .includes(""))
  );
}
