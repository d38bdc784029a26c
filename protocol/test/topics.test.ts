import { describe, expect, it } from "vitest";
import {
  deviceMayPublish,
  deviceMaySubscribe,
  deviceTopic,
  deviceTopicGrants,
  deviceTopicPrefix,
  fleetSubscription,
  isTopicSegment,
  parseTopic,
  TOPIC_KINDS,
  topics,
} from "../src/topics.js";

const me = { org: "bank-a", deviceId: "lock-0042" };

describe("topic builders", () => {
  it("build lockfleet/v1/<org>/<deviceId>/<kind> for every kind", () => {
    expect(topics.state("bank-a", "lock-0042")).toBe("lockfleet/v1/bank-a/lock-0042/state");
    expect(topics.availability("bank-a", "lock-0042")).toBe(
      "lockfleet/v1/bank-a/lock-0042/availability",
    );
    expect(topics.event("bank-a", "lock-0042")).toBe("lockfleet/v1/bank-a/lock-0042/event");
    expect(topics.cmd("bank-a", "lock-0042")).toBe("lockfleet/v1/bank-a/lock-0042/cmd");
    expect(topics.cmdResult("bank-a", "lock-0042")).toBe(
      "lockfleet/v1/bank-a/lock-0042/cmd/result",
    );
    expect(topics.sync("bank-a", "lock-0042")).toBe("lockfleet/v1/bank-a/lock-0042/sync");
    expect(deviceTopicPrefix("bank-a", "lock-0042")).toBe("lockfleet/v1/bank-a/lock-0042");
  });

  it("every built topic parses back to what built it", () => {
    for (const kind of TOPIC_KINDS) {
      expect(parseTopic(deviceTopic("bank-a", "lock-0042", kind))).toEqual({
        ok: true,
        value: { org: "bank-a", deviceId: "lock-0042", kind },
      });
    }
  });

  it.each(["+", "#", "a/b", "$SYS", "", "-lead", "x".repeat(65), "lock 1", "lock\u0000", "schloß"])(
    "refuse %j as an org or device id (E_BAD_TOPIC)",
    (segment) => {
      expect(isTopicSegment(segment)).toBe(false);
      expect(() => topics.cmd(segment, "lock-0042")).toThrow(/^E_BAD_TOPIC/);
      expect(() => topics.cmd("bank-a", segment)).toThrow(/^E_BAD_TOPIC/);
    },
  );
});

describe("parseTopic accepts exactly the layout", () => {
  it.each([
    ["another root", "lockfleet/v2/bank-a/lock-0042/state"],
    ["no root", "bank-a/lock-0042/state"],
    ["a leading slash", "/lockfleet/v1/bank-a/lock-0042/state"],
    ["a missing kind", "lockfleet/v1/bank-a/lock-0042"],
    ["a missing device", "lockfleet/v1/bank-a"],
    ["an unknown kind", "lockfleet/v1/bank-a/lock-0042/open"],
    ["an extra level", "lockfleet/v1/bank-a/lock-0042/state/x"],
    ["an extra level after cmd/result", "lockfleet/v1/bank-a/lock-0042/cmd/result/x"],
    ["cmd/other", "lockfleet/v1/bank-a/lock-0042/cmd/other"],
    ["a trailing slash", "lockfleet/v1/bank-a/lock-0042/state/"],
    ["an empty level", "lockfleet/v1/bank-a//state"],
    ["a + wildcard device", "lockfleet/v1/bank-a/+/state"],
    ["a + wildcard org", "lockfleet/v1/+/lock-0042/state"],
    ["a # wildcard", "lockfleet/v1/bank-a/lock-0042/#"],
    ["a + wildcard kind", "lockfleet/v1/bank-a/lock-0042/+"],
    ["a $ broker topic", "$SYS/broker/clients"],
    ["a $ org", "lockfleet/v1/$bank/lock-0042/state"],
    ["a shared subscription", "$share/g/lockfleet/v1/bank-a/lock-0042/state"],
    ["an upper-case kind", "lockfleet/v1/bank-a/lock-0042/STATE"],
  ])("refuses %s", (_label, topic) => {
    const parsed = parseTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe("E_BAD_TOPIC");
  });
});

describe("broker ACL: a device stays under its own prefix", () => {
  it("the grant list for an external broker is exactly what the ACL functions allow", () => {
    const grants = deviceTopicGrants(me.org, me.deviceId);
    const every = TOPIC_KINDS.map((kind) => deviceTopic(me.org, me.deviceId, kind));
    expect(grants.publish.sort()).toEqual(every.filter((t) => deviceMayPublish(me, t)).sort());
    expect(grants.subscribe.sort()).toEqual(every.filter((t) => deviceMaySubscribe(me, t)).sort());
    expect(grants.publish).toHaveLength(4);
    expect(grants.subscribe).toHaveLength(2);
  });

  it("publishes its state, availability, events and command results", () => {
    for (const kind of ["state", "availability", "event", "cmd/result"] as const) {
      expect(deviceMayPublish(me, deviceTopic(me.org, me.deviceId, kind))).toBe(true);
    }
  });

  it("subscribes to its commands and sync", () => {
    expect(deviceMaySubscribe(me, topics.cmd(me.org, me.deviceId))).toBe(true);
    expect(deviceMaySubscribe(me, topics.sync(me.org, me.deviceId))).toBe(true);
  });

  it("attack: may not publish commands to itself (only the fleet sends commands)", () => {
    expect(deviceMayPublish(me, topics.cmd(me.org, me.deviceId))).toBe(false);
    expect(deviceMayPublish(me, topics.sync(me.org, me.deviceId))).toBe(false);
  });

  it("attack: may not publish as another device or into another organisation", () => {
    expect(deviceMayPublish(me, topics.event(me.org, "lock-0043"))).toBe(false);
    expect(deviceMayPublish(me, topics.state("bank-b", me.deviceId))).toBe(false);
    expect(deviceMayPublish(me, topics.cmd(me.org, "lock-0043"))).toBe(false);
    expect(deviceMayPublish(me, topics.cmdResult("bank-b", "lock-0043"))).toBe(false);
  });

  it("attack: may not subscribe to another device's commands, nor another organisation's", () => {
    expect(deviceMaySubscribe(me, topics.cmd(me.org, "lock-0043"))).toBe(false);
    expect(deviceMaySubscribe(me, topics.cmd("bank-b", me.deviceId))).toBe(false);
  });

  it("attack: may not read what other devices or it itself report (events, state, results)", () => {
    expect(deviceMaySubscribe(me, topics.event(me.org, me.deviceId))).toBe(false);
    expect(deviceMaySubscribe(me, topics.state(me.org, "lock-0043"))).toBe(false);
    expect(deviceMaySubscribe(me, topics.cmdResult(me.org, me.deviceId))).toBe(false);
  });

  it.each([
    "lockfleet/v1/bank-a/+/cmd",
    "lockfleet/v1/+/lock-0042/cmd",
    "lockfleet/v1/bank-a/lock-0042/#",
    "lockfleet/v1/bank-a/lock-0042/+",
    "lockfleet/v1/bank-a/#",
    "lockfleet/#",
    "#",
    "+/+/+/+/+",
    "$share/g/lockfleet/v1/bank-a/lock-0042/cmd",
    "$SYS/#",
  ])("attack: may not subscribe with the filter %s", (filter) => {
    expect(deviceMaySubscribe(me, filter)).toBe(false);
    expect(deviceMayPublish(me, filter)).toBe(false);
  });

  it("attack: an identity that is itself a wildcard matches nothing", () => {
    expect(deviceMayPublish({ org: "+", deviceId: "+" }, "lockfleet/v1/+/+/event")).toBe(false);
    expect(deviceMaySubscribe({ org: "bank-a", deviceId: "#" }, "lockfleet/v1/bank-a/#/cmd")).toBe(
      false,
    );
  });
});

describe("fleet subscriptions", () => {
  it("one kind across every device, or across one organisation", () => {
    expect(fleetSubscription("event")).toBe("lockfleet/v1/+/+/event");
    expect(fleetSubscription("cmd/result", { org: "bank-a" })).toBe(
      "lockfleet/v1/bank-a/+/cmd/result",
    );
  });

  it("a shared subscription so several fleet instances split the load (MQTT $share)", () => {
    expect(fleetSubscription("event", { shareGroup: "fleet" })).toBe(
      "$share/fleet/lockfleet/v1/+/+/event",
    );
    expect(fleetSubscription("state", { org: "bank-a", shareGroup: "fleet-1" })).toBe(
      "$share/fleet-1/lockfleet/v1/bank-a/+/state",
    );
  });

  it("refuses a share group or org that would break the filter (E_BAD_TOPIC)", () => {
    expect(() => fleetSubscription("event", { shareGroup: "a/b" })).toThrow(/^E_BAD_TOPIC/);
    expect(() => fleetSubscription("event", { shareGroup: "#" })).toThrow(/^E_BAD_TOPIC/);
    expect(() => fleetSubscription("event", { org: "+" })).toThrow(/^E_BAD_TOPIC/);
  });
});
