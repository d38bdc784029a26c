import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorld, enrolLock, type TestWorld, waitFor } from "./helpers.js";

let world: TestWorld;

beforeEach(async () => {
  world = await createWorld({ keyInstallWaitMs: 2_000 });
});
afterEach(async () => world.close());

describe("fleet signing key rotation", () => {
  it("installs the new key on every lock with the old key, then signs with the new one only", async () => {
    const locks = [await enrolLock(world), await enrolLock(world)];
    for (const lock of locks) {
      await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
    }
    const [oldKey] = world.hub.fleetPublicKeys();
    const rotated = await world.hub.rotateFleetKey();
    expect(rotated).toMatchObject({ confirmed: 2, pending: 0 });
    expect(rotated.keyId).not.toBe(oldKey?.keyId);
    for (const lock of locks) {
      const installs = lock.commandsOfType("fleetKey.install");
      // First install is signed with the old key (the only one the lock trusted then).
      expect(installs[0]).toMatchObject({ keyId: oldKey?.keyId, body: { keyId: rotated.keyId } });
      expect([...lock.trust.keys()]).toEqual([rotated.keyId]);
      expect(lock.refused).toEqual([]);
      const result = await world.hub.sendCommand(
        lock.deviceId,
        "selfTest.request",
        {},
        { waitMs: 2_000 },
      );
      expect(result?.status).toBe("ok");
      expect(lock.commandsOfType("selfTest.request").at(-1)?.keyId).toBe(rotated.keyId);
    }
    // The old key is retired: new locks are given only the new one.
    expect(world.hub.fleetPublicKeys().map((key) => key.keyId)).toEqual([rotated.keyId]);
    const newcomer = await enrolLock(world);
    expect([...newcomer.trust.keys()]).toEqual([rotated.keyId]);
  });

  it("a lock offline during the rotation is not bricked: it gets the new key when it returns", async () => {
    const online = await enrolLock(world);
    const away = await enrolLock(world);
    await waitFor(() => world.hub.device(online.deviceId)?.availability === "online");
    const [oldKey] = world.hub.fleetPublicKeys();
    away.crash();
    await waitFor(() => world.hub.device(away.deviceId)?.availability === "offline");
    const rotated = await world.hub.rotateFleetKey();
    expect(rotated).toMatchObject({ confirmed: 1, pending: 1 });
    expect([...online.trust.keys()]).toEqual([rotated.keyId]);
    // The old key stays in the ring while a lock still depends on it.
    expect(
      world.db
        .prepare("SELECT retired_at FROM fleet_keys WHERE key_id = ?")
        .pluck()
        .get(oldKey?.keyId),
    ).toBeNull();
    // Commands to the absent lock are still signed with a key it trusts.
    await world.hub.sendCommand(away.deviceId, "selfTest.request", {});
    expect(world.hub.commands(away.deviceId, 1)[0]?.keyId).toBe(oldKey?.keyId);

    await away.connect();
    await waitFor(() => away.trust.size === 1 && away.trust.has(rotated.keyId), 5_000, "catch-up");
    expect(away.refused).toEqual([]);
    const result = await world.hub.sendCommand(
      away.deviceId,
      "selfTest.request",
      {},
      { waitMs: 2_000 },
    );
    expect(result?.status).toBe("ok");
    expect(away.commandsOfType("selfTest.request").at(-1)?.keyId).toBe(rotated.keyId);
    await waitFor(
      () =>
        world.db
          .prepare("SELECT retired_at FROM fleet_keys WHERE key_id = ?")
          .pluck()
          .get(oldKey?.keyId) !== null,
      3_000,
      "old key retired",
    );
  });

  it("the key ring survives a restart: private keys are sealed at rest and reopened", async () => {
    const lock = await enrolLock(world);
    await waitFor(() => world.hub.device(lock.deviceId)?.availability === "online");
    const rotated = await world.hub.rotateFleetKey();
    const sealed = world.db
      .prepare("SELECT sealed_private_key FROM fleet_keys WHERE key_id = ?")
      .pluck()
      .get(rotated.keyId);
    expect(String(sealed)).toMatch(/^v1\./);
    await world.hub.close();
    lock.crash();
    await world.startHub();
    await lock.connect({ url: world.hub.brokerUrl });
    const result = await world.hub.sendCommand(
      lock.deviceId,
      "selfTest.request",
      {},
      { waitMs: 2_000 },
    );
    expect(result?.status).toBe("ok");
    expect(lock.refused).toEqual([]);
  });
});
