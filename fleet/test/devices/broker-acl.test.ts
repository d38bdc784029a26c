import { topics } from "@lockfleet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorld, defined, enrolLock, nextEvent, type TestWorld, waitFor } from "./helpers.js";

let world: TestWorld;

beforeEach(async () => {
  world = await createWorld();
});
afterEach(async () => world.close());

describe("broker ACL: a lock publishes and subscribes only under its own prefix", () => {
  it("a lock publishing under another lock's prefix is disconnected, refused and audited", async () => {
    const victim = await enrolLock(world);
    const attacker = await enrolLock(world);
    await waitFor(() => world.hub.lockState(victim.deviceId) !== undefined);
    const rejected = nextEvent(world.hub, "rejected", (deviceId) => deviceId === attacker.deviceId);
    const client = defined(attacker.client);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish(
      topics.state(victim.org, victim.deviceId),
      JSON.stringify(victim.state({ bolt: "retracted", door: "open" })),
      { qos: 1, retain: true },
    );
    const [, reason] = await rejected;
    expect(reason).toMatch(/^E_MQTT_PUBLISH_DENIED/);
    await closed; // MQTT 3.1.1 has no refusal for a PUBLISH: aedes drops the connection
    expect(world.hub.lockState(victim.deviceId)?.bolt).toBe("thrown");
    const events = world.hub.securityEvents(attacker.deviceId);
    expect(
      events.some(
        (event) =>
          event.kind === "mqtt.publish" &&
          event.topic === topics.state(victim.org, victim.deviceId),
      ),
    ).toBe(true);
  });

  it("a lock may not publish on its own command topic (commands come only from the fleet)", async () => {
    const lock = await enrolLock(world);
    const rejected = nextEvent(world.hub, "rejected", (deviceId) => deviceId === lock.deviceId);
    defined(lock.client).publish(topics.cmd(lock.org, lock.deviceId), "{}", { qos: 1 });
    const [, reason] = await rejected;
    expect(reason).toMatch(/E_MQTT_PUBLISH_DENIED/);
  });

  it("subscribing to another lock's commands, to wildcards or to everything is refused", async () => {
    const victim = await enrolLock(world);
    const attacker = await enrolLock(world);
    for (const filter of [
      topics.cmd(victim.org, victim.deviceId),
      `lockfleet/v1/${attacker.org}/+/cmd`,
      `lockfleet/v1/${attacker.org}/${attacker.deviceId}/#`,
      "#",
      "$SYS/#",
    ]) {
      // SUBACK 0x80: mqtt.js turns the refusal into an error.
      await expect(
        defined(attacker.client).subscribeAsync(filter, { qos: 1 }),
        filter,
      ).rejects.toThrow(/Subscribe error/);
    }
    const refused = world.hub
      .securityEvents(attacker.deviceId)
      .filter((event) => event.kind === "mqtt.subscribe");
    expect(refused).toHaveLength(5);
    // The connection stays up and its own subscriptions still work.
    const own = await defined(attacker.client).subscribeAsync(
      topics.cmd(attacker.org, attacker.deviceId),
      {
        qos: 1,
      },
    );
    expect(own[0]?.qos).toBe(1);
  });

  it("a message that names another lock inside its own topic is refused and audited", async () => {
    const victim = await enrolLock(world);
    const attacker = await enrolLock(world);
    const rejected = nextEvent(world.hub, "rejected", (deviceId) => deviceId === attacker.deviceId);
    // Own topic, victim's identity in the payload.
    await attacker.publish(topics.state(attacker.org, attacker.deviceId), victim.state(), true);
    const [, reason] = await rejected;
    expect(reason).toMatch(/^E_WRONG_DEVICE/);
    expect(world.hub.lockState(attacker.deviceId)?.deviceId).toBe(attacker.deviceId);
  });

  it("a message that is not a JSON envelope is refused with a reason", async () => {
    const lock = await enrolLock(world);
    const rejected = nextEvent(world.hub, "rejected", (deviceId) => deviceId === lock.deviceId);
    await defined(lock.client).publishAsync(topics.event(lock.org, lock.deviceId), "not json", {
      qos: 1,
    });
    const [, reason] = await rejected;
    expect(reason).toMatch(/^E_MALFORMED/);
  });
});
