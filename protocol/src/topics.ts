/**
 * MQTT topic layout (SPEC §4): lockfleet/v1/<org>/<deviceId>/<kind>.
 *
 * Every topic a device or the fleet touches is built and parsed here; anything that does not
 * match the layout exactly is refused, so no other module splits topic strings by hand.
 */
import { fail, protocolError, type Result, succeed } from "./errors.js";

export const TOPIC_ROOT = "lockfleet/v1";

export const TOPIC_KINDS = ["state", "availability", "event", "cmd", "cmd/result", "sync"] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** What a device sends (fleet subscribes) and what it receives (device subscribes). */
const DEVICE_PUBLISHES: ReadonlySet<TopicKind> = new Set([
  "state",
  "availability",
  "event",
  "cmd/result",
]);
const DEVICE_SUBSCRIBES: ReadonlySet<TopicKind> = new Set(["cmd", "sync"]);

/**
 * Organisation and device ids are single topic levels: letters, digits, '-' and '_', no MQTT
 * wildcards, no '/', no leading '$' (reserved for broker topics).
 */
export const TOPIC_SEGMENT_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";
const SEGMENT = new RegExp(TOPIC_SEGMENT_PATTERN);

export interface ParsedTopic {
  org: string;
  deviceId: string;
  kind: TopicKind;
}

export function isTopicSegment(text: string): boolean {
  return SEGMENT.test(text);
}

function checkSegment(name: string, value: string): void {
  if (!SEGMENT.test(value)) {
    throw protocolError(
      "E_BAD_TOPIC",
      `${name} "${value}" is not a valid topic level (letters, digits, '-', '_'; 1–64 characters)`,
    );
  }
}

export function deviceTopicPrefix(org: string, deviceId: string): string {
  checkSegment("org", org);
  checkSegment("deviceId", deviceId);
  return `${TOPIC_ROOT}/${org}/${deviceId}`;
}

export function deviceTopic(org: string, deviceId: string, kind: TopicKind): string {
  return `${deviceTopicPrefix(org, deviceId)}/${kind}`;
}

export const topics = {
  state: (org: string, deviceId: string) => deviceTopic(org, deviceId, "state"),
  availability: (org: string, deviceId: string) => deviceTopic(org, deviceId, "availability"),
  event: (org: string, deviceId: string) => deviceTopic(org, deviceId, "event"),
  cmd: (org: string, deviceId: string) => deviceTopic(org, deviceId, "cmd"),
  cmdResult: (org: string, deviceId: string) => deviceTopic(org, deviceId, "cmd/result"),
  sync: (org: string, deviceId: string) => deviceTopic(org, deviceId, "sync"),
} as const;

/**
 * Subscription filter for one kind across devices, for the fleet. With `shareGroup` it becomes
 * an MQTT shared subscription so that several fleet instances split the load.
 */
export function fleetSubscription(
  kind: TopicKind,
  options: { org?: string; shareGroup?: string } = {},
): string {
  const org = options.org ?? "+";
  if (options.org !== undefined) checkSegment("org", options.org);
  const filter = `${TOPIC_ROOT}/${org}/+/${kind}`;
  if (options.shareGroup === undefined) return filter;
  checkSegment("shareGroup", options.shareGroup);
  return `$share/${options.shareGroup}/${filter}`;
}

export function parseTopic(topic: string): Result<ParsedTopic> {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix))
    return fail("E_BAD_TOPIC", `topic "${topic}" is not under ${TOPIC_ROOT}/`);
  const levels = topic.slice(prefix.length).split("/");
  const [org, deviceId, ...rest] = levels;
  if (org === undefined || deviceId === undefined || rest.length === 0) {
    return fail("E_BAD_TOPIC", `topic "${topic}" lacks <org>/<deviceId>/<kind>`);
  }
  if (!SEGMENT.test(org))
    return fail("E_BAD_TOPIC", `topic "${topic}": org "${org}" is not a valid id`);
  if (!SEGMENT.test(deviceId)) {
    return fail("E_BAD_TOPIC", `topic "${topic}": deviceId "${deviceId}" is not a valid id`);
  }
  const kind = rest.join("/");
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) {
    return fail(
      "E_BAD_TOPIC",
      `topic "${topic}": "${kind}" is not one of ${TOPIC_KINDS.join(", ")}`,
    );
  }
  return succeed({ org, deviceId, kind: kind as TopicKind });
}

/**
 * The exact topics one device may publish to and subscribe to: the same rule as
 * `deviceMayPublish`/`deviceMaySubscribe`, as a list for a broker configured from outside
 * (Mosquitto's dynamic security, an ACL file).
 */
export function deviceTopicGrants(
  org: string,
  deviceId: string,
): { publish: string[]; subscribe: string[] } {
  return {
    publish: [...DEVICE_PUBLISHES].map((kind) => deviceTopic(org, deviceId, kind)),
    subscribe: [...DEVICE_SUBSCRIBES].map((kind) => deviceTopic(org, deviceId, kind)),
  };
}

/** Broker ACL: a device publishes only its own outbound kinds under its own prefix. */
export function deviceMayPublish(
  identity: { org: string; deviceId: string },
  topic: string,
): boolean {
  const parsed = parseTopic(topic);
  return (
    parsed.ok &&
    parsed.value.org === identity.org &&
    parsed.value.deviceId === identity.deviceId &&
    DEVICE_PUBLISHES.has(parsed.value.kind)
  );
}

/** Broker ACL: a device subscribes only to its own inbound kinds, never with wildcards. */
export function deviceMaySubscribe(
  identity: { org: string; deviceId: string },
  topicFilter: string,
): boolean {
  const parsed = parseTopic(topicFilter);
  return (
    parsed.ok &&
    parsed.value.org === identity.org &&
    parsed.value.deviceId === identity.deviceId &&
    DEVICE_SUBSCRIBES.has(parsed.value.kind)
  );
}
