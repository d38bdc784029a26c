/**
 * Who may connect, publish and subscribe on the embedded broker (SPEC §4 "broker ACL"): small,
 * named functions over identities, with no aedes in them, so each rule has its own test.
 */
import { timingSafeEqual } from "node:crypto";
import { deviceMayPublish, deviceMaySubscribe, isTopicSegment } from "@lockfleet/protocol";

export interface DeviceIdentity {
  kind: "device";
  org: string;
  deviceId: string;
}

/** The fleet's own client: it subscribes across devices and publishes commands. */
export interface FleetIdentity {
  kind: "fleet";
}

export type BrokerIdentity = DeviceIdentity | FleetIdentity;

/** Not a valid device id ('$' is not allowed in a topic level), so no device can take it. */
export const FLEET_USERNAME = "fleet$internal";
export const FLEET_CLIENT_ID_PREFIX = "fleet$";

export type Decision = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: Decision = { allowed: true };

export function sameSecret(given: Uint8Array, expected: Uint8Array): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A device connects with its own id as client id, so it cannot push another lock off the broker. */
export function checkDeviceClientId(identity: DeviceIdentity, clientId: string): Decision {
  if (clientId === identity.deviceId) return ALLOWED;
  return {
    allowed: false,
    reason: `E_MQTT_CLIENT_ID: device ${identity.deviceId} connected with client id "${clientId.slice(0, 64)}", not its own id`,
  };
}

export function checkPublish(identity: BrokerIdentity, topic: string): Decision {
  if (identity.kind === "fleet") return ALLOWED;
  if (deviceMayPublish(identity, topic)) return ALLOWED;
  return {
    allowed: false,
    reason: `E_MQTT_PUBLISH_DENIED: device ${identity.deviceId} may not publish on "${topic.slice(0, 200)}"`,
  };
}

export function checkSubscribe(identity: BrokerIdentity, topicFilter: string): Decision {
  if (identity.kind === "fleet") return ALLOWED;
  if (deviceMaySubscribe(identity, topicFilter)) return ALLOWED;
  return {
    allowed: false,
    reason: `E_MQTT_SUBSCRIBE_DENIED: device ${identity.deviceId} may not subscribe to "${topicFilter.slice(0, 200)}"`,
  };
}

/** Usernames a device may present: its device id, a single topic level. */
export function isDeviceUsername(username: string): boolean {
  return isTopicSegment(username);
}
