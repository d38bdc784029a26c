/**
 * The device-message gate over the embedded broker: what counts as a duplicate, a QoS 1
 * redelivery and a replay, and that the device sequence survives a fleet restart.
 */
import { topics } from "@lockfleet/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, defined, enrolLock, type TestWorld, waitFor } from "./helpers.js";

describe("device sequence per lock and stream", () => {
  let world: TestWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a message accepted moments ago and delivered again is recorded as a redelivery, changes nothing and raises no alarm", async () => {
    const w = await createWorld();
    world = w;
    const lock = await enrolLock(w);
    await lock.publishState({ door: "open" });
    const open = defined(lock.sent.at(-1));
    await lock.publishState({ door: "closed" });
    await waitFor(() => w.hub.lockState(lock.deviceId)?.door === "closed");
    const alarms: string[] = [];
    w.hub.on("alarm", (_id, alarm) => alarms.push(alarm.alarm));
    await lock.publishRaw(open.topic, open.text, true);
    await waitFor(() =>
      w.hub.securityEvents(lock.deviceId).some((event) => event.kind === "message.redelivery"),
    );
    expect(w.hub.lockState(lock.deviceId)?.door).toBe("closed");
    expect(alarms).toEqual([]);
  });

  it("the last accepted message again (the broker's retained copy) is silently the same message", async () => {
    const w = await createWorld();
    world = w;
    const lock = await enrolLock(w);
    await lock.publishState({ door: "closed" });
    const last = defined(lock.sent.at(-1));
    await waitFor(() => w.hub.lockState(lock.deviceId) !== undefined);
    await lock.publishRaw(last.topic, last.text, true);
    await lock.publishState({ door: "open" });
    await waitFor(() => w.hub.lockState(lock.deviceId)?.door === "open");
    expect(w.hub.securityEvents(lock.deviceId)).toEqual([]);
  });

  it("a replay is refused after a fleet restart too: the highest device seq per stream is stored", async () => {
    const w = await createWorld();
    world = w;
    const lock = await enrolLock(w);
    await lock.publishState({ door: "open" });
    const open = defined(lock.sent.at(-1));
    await lock.publishState({ door: "closed" });
    await waitFor(() => w.hub.lockState(lock.deviceId)?.door === "closed");
    lock.crash();
    await w.hub.close();
    await w.startHub({ redeliveryWindowMs: 0 });
    await lock.connect({ url: w.hub.brokerUrl });
    await waitFor(() => w.hub.device(lock.deviceId)?.availability === "online");
    await lock.publishRaw(open.topic, open.text, true);
    await waitFor(() =>
      w.hub
        .securityEvents(lock.deviceId)
        .some((event) => event.kind === "message.forged" && event.reason.startsWith("E_REPLAY")),
    );
    expect(w.hub.lockState(lock.deviceId)?.door).toBe("closed");
  });

  it("a message signed by the lock on the wrong topic is refused (E_WRONG_TOPIC)", async () => {
    const w = await createWorld();
    world = w;
    const lock = await enrolLock(w);
    const state = lock.signFor(topics.state(lock.org, lock.deviceId), lock.state({ door: "open" }));
    await lock.publishRaw(topics.event(lock.org, lock.deviceId), state);
    await waitFor(() =>
      w.hub.securityEvents(lock.deviceId).some((event) => event.reason.startsWith("E_WRONG_TOPIC")),
    );
    expect(w.hub.lockState(lock.deviceId)?.door).toBe("closed");
  });
});
