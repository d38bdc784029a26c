import { describe, expect, it } from "vitest";
import {
  checkDeviceClientId,
  checkPublish,
  checkSubscribe,
  type DeviceIdentity,
  FLEET_USERNAME,
  isDeviceUsername,
} from "../../src/broker/acl.js";
import { RetainedIndex } from "../../src/broker/retained-store.js";

const lock: DeviceIdentity = { kind: "device", org: "org_a", deviceId: "lock-000000000001" };
const prefix = "lockfleet/v1/org_a/lock-000000000001";

describe("broker ACL rules", () => {
  it("a lock publishes only its outbound kinds under its own prefix", () => {
    for (const kind of ["state", "availability", "event", "cmd/result"]) {
      expect(checkPublish(lock, `${prefix}/${kind}`).allowed, kind).toBe(true);
    }
    for (const topic of [
      `${prefix}/cmd`,
      `${prefix}/sync`,
      "lockfleet/v1/org_a/lock-000000000002/state",
      "lockfleet/v1/org_b/lock-000000000001/state",
      `${prefix}/state/extra`,
      "$SYS/broker/uptime",
    ]) {
      expect(checkPublish(lock, topic).allowed, topic).toBe(false);
    }
  });

  it("a lock subscribes only to its own cmd and sync, never with wildcards", () => {
    expect(checkSubscribe(lock, `${prefix}/cmd`).allowed).toBe(true);
    expect(checkSubscribe(lock, `${prefix}/sync`).allowed).toBe(true);
    for (const filter of [
      `${prefix}/#`,
      `${prefix}/+`,
      "lockfleet/v1/org_a/+/cmd",
      "lockfleet/v1/+/lock-000000000001/cmd",
      "#",
      `${prefix}/state`,
      "$share/g/lockfleet/v1/org_a/lock-000000000001/cmd",
    ]) {
      expect(checkSubscribe(lock, filter).allowed, filter).toBe(false);
    }
  });

  it("the fleet's own client may do anything; no lock can take its username", () => {
    expect(checkPublish({ kind: "fleet" }, `${prefix}/cmd`).allowed).toBe(true);
    expect(checkSubscribe({ kind: "fleet" }, "lockfleet/v1/+/+/state").allowed).toBe(true);
    expect(isDeviceUsername(FLEET_USERNAME)).toBe(false);
  });

  it("a lock must use its own id as client id (so it cannot push another lock off)", () => {
    expect(checkDeviceClientId(lock, "lock-000000000001").allowed).toBe(true);
    expect(checkDeviceClientId(lock, "lock-000000000002").allowed).toBe(false);
  });
});

describe("indexed retained store", () => {
  const packet = (topic: string) => ({ topic, payload: Buffer.from(topic) });

  it("matches exact topics, + and # like MQTT, and never $ topics by wildcard", () => {
    const index = new RetainedIndex();
    for (const topic of ["a/b/c", "a/x/c", "a/b", "a", "$SYS/x"]) index.set(packet(topic));
    const match = (filter: string) => [...index.match(filter)].map((p) => p.topic).sort();
    expect(match("a/b/c")).toEqual(["a/b/c"]);
    expect(match("a/+/c")).toEqual(["a/b/c", "a/x/c"]);
    expect(match("a/#")).toEqual(["a", "a/b", "a/b/c", "a/x/c"]);
    expect(match("#")).toEqual(["a", "a/b", "a/b/c", "a/x/c"]);
    expect(match("+/b")).toEqual(["a/b"]);
    expect(match("$SYS/#")).toEqual(["$SYS/x"]);
  });

  it("replaces a topic's message, deletes it and prunes empty levels", () => {
    const index = new RetainedIndex();
    index.set(packet("a/b/c"));
    index.set({ topic: "a/b/c", payload: Buffer.from("new") });
    expect(index.size).toBe(1);
    expect(String(index.get("a/b/c")?.payload)).toBe("new");
    index.delete("a/b/c");
    expect(index.size).toBe(0);
    expect([...index.match("#")]).toEqual([]);
  });
});
