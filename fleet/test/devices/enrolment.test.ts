import { createHash } from "node:crypto";
import {
  EnrolmentResponse,
  ed25519,
  fromBase64url,
  isValid,
  openSealedSecret,
  toBase64url,
} from "@lockfleet/protocol";
import { connectAsync } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorld, enrolLock, type TestWorld } from "./helpers.js";
import { SimulatedLock } from "./simulated-lock.js";

let world: TestWorld;
let now = Date.parse("2026-11-23T10:00:00.000Z");
const clock = () => now;

beforeEach(async () => {
  now = Date.parse("2026-11-23T10:00:00.000Z");
  world = await createWorld({ clock });
});
afterEach(async () => world.close());

function token(ttlMs = 60_000) {
  return world.hub.createEnrolmentToken({
    orgId: world.orgId,
    containerId: world.containerId,
    ttlMs,
    createdBy: "usr_admin",
  });
}

describe("enrolment", () => {
  it("a lock with a valid token and proof of key possession is enrolled and can connect", async () => {
    const lock = new SimulatedLock();
    const response = await world.hub.enrol(lock.enrolmentRequest(token().token));
    expect(isValid(EnrolmentResponse, response)).toBe(true);
    expect(response.org).toBe(world.orgId);
    expect(response.containerId).toBe(world.containerId);
    expect(response.timeZone).toBe("Europe/Berlin");
    expect(response.policy.timeDelayMin).toBe(5);
    expect(response.fleetKeys).toEqual(world.hub.fleetPublicKeys());
    lock.accept(response);
    // The one-time-code secret opens with the lock's own X25519 key and is the fleet's copy.
    expect(toBase64url(lock.otpSecret as Uint8Array)).toBe(
      toBase64url(world.hub.otpSecret(response.deviceId)),
    );
    world.locks.push(lock);
    await lock.connect();
    expect(world.hub.device(response.deviceId)?.containerId).toBe(world.containerId);
  });

  it("token, MQTT password and OTP secret are stored only hashed or sealed", async () => {
    const issued = token();
    const lock = new SimulatedLock();
    const response = await world.hub.enrol(lock.enrolmentRequest(issued.token));
    const dump = JSON.stringify([
      world.db.prepare("SELECT * FROM enrolment_tokens").all(),
      world.db.prepare("SELECT * FROM devices").all(),
      world.db.prepare("SELECT * FROM device_secrets").all(),
    ]);
    expect(dump).not.toContain(issued.token);
    expect(dump).not.toContain(response.broker.password);
    expect(dump).toContain(createHash("sha256").update(issued.token).digest("hex"));
    const secret = toBase64url(world.hub.otpSecret(response.deviceId));
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(Buffer.from(fromBase64url(secret)).toString("hex"));
  });

  it("an unknown token is refused", async () => {
    const lock = new SimulatedLock();
    await expect(
      world.hub.enrol(lock.enrolmentRequest("lfe_thisTokenWasNeverIssuedByTheFleet")),
    ).rejects.toMatchObject({ code: "E_ENROLMENT_TOKEN", statusCode: 401 });
  });

  it("an expired token is refused", async () => {
    const issued = token(60_000);
    now += 60_001;
    await expect(
      world.hub.enrol(new SimulatedLock().enrolmentRequest(issued.token)),
    ).rejects.toMatchObject({ code: "E_ENROLMENT_TOKEN_EXPIRED" });
  });

  it("a token enrols one lock only", async () => {
    const issued = token();
    await world.hub.enrol(new SimulatedLock().enrolmentRequest(issued.token));
    await expect(
      world.hub.enrol(new SimulatedLock().enrolmentRequest(issued.token)),
    ).rejects.toMatchObject({ code: "E_ENROLMENT_TOKEN_USED", statusCode: 409 });
    expect(world.db.prepare("SELECT COUNT(*) AS n FROM devices").get()).toEqual({ n: 1 });
  });

  it("a claim not signed by the key it names is refused and leaves the token unused", async () => {
    const issued = token();
    const lock = new SimulatedLock();
    const impostor = ed25519.generateKeyPair();
    await expect(
      world.hub.enrol(lock.enrolmentRequest(issued.token, impostor.secretKey)),
    ).rejects.toMatchObject({ code: "E_ENROLMENT_PROOF" });
    // A claim altered after signing (someone swaps in their own encryption key) fails too.
    const request = lock.enrolmentRequest(issued.token);
    request.claim.encryptionPublicKey = toBase64url(new Uint8Array(32).fill(7));
    await expect(world.hub.enrol(request)).rejects.toMatchObject({ code: "E_ENROLMENT_PROOF" });
    // The genuine lock can still use the token.
    await expect(world.hub.enrol(lock.enrolmentRequest(issued.token))).resolves.toBeDefined();
  });

  it("a token cannot be issued for a container of another organisation", async () => {
    expect(() =>
      world.hub.createEnrolmentToken({
        orgId: "org_0000000000000000",
        containerId: world.containerId,
        ttlMs: 60_000,
        createdBy: "usr_admin",
      }),
    ).toThrow(/E_NOT_FOUND/);
  });

  it("the broker refuses wrong passwords, anonymous clients and a borrowed client id", async () => {
    const lock = await enrolLock(world, { connect: false });
    const enrolment = lock.enrolment as EnrolmentResponse;
    const url = enrolment.broker.url;
    const attempt = (options: Record<string, unknown>) =>
      connectAsync(url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
        ...options,
      });
    await expect(
      attempt({ clientId: lock.deviceId, username: lock.deviceId, password: "x".repeat(43) }),
    ).rejects.toThrow(/Bad username or password/);
    await expect(attempt({ clientId: lock.deviceId })).rejects.toThrow(/Not authorized/);
    await expect(
      attempt({
        clientId: "lock-000000000000",
        username: lock.deviceId,
        password: enrolment.broker.password,
      }),
    ).rejects.toThrow(/Not authorized/);
    const kinds = world.hub.securityEvents().map((event) => event.kind);
    expect(kinds.filter((kind) => kind === "mqtt.connect")).toHaveLength(3);
  });

  it("one-time-code counters are reserved strictly increasing, also across a restart", async () => {
    const lock = await enrolLock(world, { connect: false });
    expect(world.hub.reserveOtpCounters(lock.deviceId, 5)).toBe(1);
    expect(world.hub.reserveOtpCounters(lock.deviceId, 1)).toBe(6);
    await world.hub.close();
    await world.startHub();
    expect(world.hub.reserveOtpCounters(lock.deviceId, 2)).toBe(7);
    expect(() => world.hub.reserveOtpCounters(lock.deviceId, 0)).toThrow(/E_SCHEMA/);
    expect(() => world.hub.otpSecret("lock-ffffffffffff")).toThrow(/E_NOT_FOUND/);
  });

  it("a secret sealed for a lock opens only with that lock's key", async () => {
    const lock = await enrolLock(world, { connect: false });
    const other = await enrolLock(world, { connect: false });
    const sealed = world.hub.sealForDevice(lock.deviceId, Buffer.from("initial code 123456"));
    expect(Buffer.from(openSealedSecret(sealed, lock.encryption.secretKey)).toString()).toBe(
      "initial code 123456",
    );
    expect(() => openSealedSecret(sealed, other.encryption.secretKey)).toThrow(/E_SEALED_BOX/);
  });
});
