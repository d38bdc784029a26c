/**
 * Presence: online and offline from what the lock signs and what the broker sees, the
 * lockOffline alarm after a grace period, what a lock gets on connect (time, keys), and the
 * probe that checks a broker's last will before believing it.
 */
import { formatInstant } from "@lockfleet/protocol";
import type { DeviceIdentity } from "../broker/index.js";
import { type ClockSync, TIME_SYNC_TTL_MS } from "./clock-sync.js";
import type { CommandDispatch } from "./command-dispatch.js";
import type { HubContext } from "./hub-context.js";
import type { KeyRotation } from "./key-rotation.js";
import type { LiveDevice } from "./live-device.js";

/** A drift measured this shortly before a connect still describes the lock's clock. */
const FRESH_DRIFT_MS = 5_000;
/** Above this many locks coming online within a second, the hub is in a reconnect storm. */
const STORM_CONNECTS_PER_SECOND = 100;
/** In a storm, each lock's on-connect time sync is sent at a random point within this. */
const STORM_SPREAD_MS = 30_000;

export class Presence {
  readonly #ctx: HubContext;
  readonly #dispatch: CommandDispatch;
  readonly #clockSync: ClockSync;
  readonly #keyRotation: KeyRotation;
  #connectWindow = { start: 0, count: 0 };

  constructor(
    ctx: HubContext,
    dispatch: CommandDispatch,
    clockSync: ClockSync,
    keyRotation: KeyRotation,
  ) {
    this.#ctx = ctx;
    this.#dispatch = dispatch;
    this.#clockSync = clockSync;
    this.#keyRotation = keyRotation;
  }

  setAvailability(device: LiveDevice, status: "online" | "offline"): void {
    if (device.availability === status) return;
    const at = formatInstant(this.#ctx.clock());
    device.availability = status;
    device.availabilityAt = at;
    this.#ctx.writes.queuePresence({ deviceId: device.deviceId, availability: status, at });
    if (status === "online") {
      if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
      device.offlineTimer = undefined;
      device.offlineAlarmRaised = false;
      this.#ctx.emit("availability", device.deviceId, "online");
      this.#afterConnect(device);
      return;
    }
    this.#ctx.emit("availability", device.deviceId, "offline");
    if (device.offlineTimer !== undefined) clearTimeout(device.offlineTimer);
    device.offlineTimer = setTimeout(() => {
      device.offlineTimer = undefined;
      if (this.#ctx.closed || device.availability !== "offline" || device.offlineAlarmRaised)
        return;
      device.offlineAlarmRaised = true;
      this.#ctx.raiseFleetAlarm(device, "lockOffline", { offlineSince: at });
    }, this.#ctx.settings.offlineGraceMs);
    device.offlineTimer.unref();
  }

  /**
   * On connect: trusted time first, then any fleet key the lock has not got yet. In a
   * reconnect storm (many locks within a second) this is spread over STORM_SPREAD_MS, so that
   * thousands of signed commands do not stand between the locks and their connections.
   */
  #afterConnect(device: LiveDevice): void {
    const now = this.#ctx.clock();
    if (now - this.#connectWindow.start >= 1_000) this.#connectWindow = { start: now, count: 0 };
    this.#connectWindow.count += 1;
    const run = () => {
      device.connectTimer = undefined;
      if (this.#ctx.closed || device.availability !== "online") return;
      // A sync is stated in the lock's clock: with a drift measured on this connection (the
      // lock publishes its state on connect), else as soon as that state arrives.
      if (!this.#measuredOnThisConnection(device, now)) device.syncOnState = true;
      else if (device.lastTimeSyncAt < device.driftMeasuredAt)
        this.#clockSync.syncClock(device, true);
      this.#keyRotation.reconcileTrust(device)?.catch((error) => {
        if (!this.#ctx.closed)
          this.#ctx.log.warn({ err: error, deviceId: device.deviceId }, "key not sent");
      });
    };
    if (this.#connectWindow.count <= STORM_CONNECTS_PER_SECOND) {
      run();
      return;
    }
    if (device.connectTimer !== undefined) clearTimeout(device.connectTimer);
    device.connectTimer = setTimeout(run, Math.floor(Math.random() * STORM_SPREAD_MS));
    device.connectTimer.unref();
  }

  /**
   * Whether the lock's drift was measured on the connection it holds now. With the embedded
   * broker the connection's generation says so: a lock restarted with another clock within
   * seconds, or a message its old connection sent arriving after the broker reported the drop,
   * must not frame the new connection's sync in the old clock. An external broker tells no
   * generations; there a measurement of the last few seconds stands for this connection.
   */
  #measuredOnThisConnection(device: LiveDevice, now: number): boolean {
    if (device.driftMeasuredAt < now - FRESH_DRIFT_MS) return false;
    const broker = this.#ctx.broker;
    if (broker === undefined) return true;
    const connection = broker.deviceConnection(device.deviceId);
    return connection !== undefined && device.driftConnection === connection;
  }

  onDeviceDisconnected(identity: DeviceIdentity): void {
    const device = this.#ctx.devices.get(identity.deviceId);
    if (device !== undefined && !this.#ctx.closed) this.setAvailability(device, "offline");
  }

  /**
   * A live, signed message from the lock: it is online, whatever the broker's will said —
   * unless the embedded broker says the lock holds no connection now. The broker reports a
   * disconnection in-process at once, while what it relayed from that connection just before
   * reaches the hub's client over a socket, so it can arrive after the report: it proves the
   * lock was there, not that it still is. A lock that reconnected holds a connection again, so
   * its messages count. (An external broker reports nothing in-process; there the will is a
   * hint checked by a probe.)
   */
  heardFrom(device: LiveDevice): void {
    device.availabilityHint = null;
    if (device.availability === "online") return;
    if (this.#ctx.broker !== undefined && !this.#ctx.broker.isDeviceConnected(device.deviceId))
      return;
    this.setAvailability(device, "online");
  }

  /** The lock itself said it goes offline (a clean stop). */
  onSignedOffline(device: LiveDevice): void {
    // A lock that reconnects before the broker noticed its old connection drop: the broker
    // knows better than a message from the old connection.
    if (this.#ctx.broker?.isDeviceConnected(device.deviceId)) return;
    this.setAvailability(device, "offline");
  }

  /**
   * The broker's last will ("offline", unsigned): anyone who may publish on the lock's topic
   * could have sent it, so it only starts a check. The embedded broker reports disconnections
   * itself (#onDeviceDisconnected); on an external one the fleet asks the lock for a signed
   * answer and takes it as offline only when none comes.
   */
  onAvailabilityHint(device: LiveDevice): void {
    if (this.#ctx.broker !== undefined || device.availability === "offline") return;
    device.availabilityHint = { status: "offline", at: formatInstant(this.#ctx.clock()) };
    this.#probePresence(device);
  }

  #probePresence(device: LiveDevice): void {
    if (device.probing || this.#ctx.closed || device.status !== "active") return;
    device.probing = true;
    const now = this.#ctx.clock();
    const drift = device.clockDriftMs ?? 0;
    const validity = {
      issuedAt: now + Math.min(0, drift),
      expiresAt: now + Math.max(0, drift) + TIME_SYNC_TTL_MS,
    };
    device.lastTimeSyncAt = now;
    this.#dispatch
      .send(
        device.deviceId,
        "time.sync",
        { time: formatInstant(now) },
        validity,
        this.#ctx.settings.presenceProbeWaitMs,
      )
      .then(
        ({ result }) => {
          device.probing = false;
          if (this.#ctx.closed || result !== undefined || device.availabilityHint === null) return;
          // No signed answer: the fleet's own observation, not the will, takes the lock offline.
          device.availabilityHint = null;
          this.setAvailability(device, "offline");
        },
        (error: unknown) => {
          device.probing = false;
          if (!this.#ctx.closed)
            this.#ctx.log.warn(
              { err: error, deviceId: device.deviceId },
              "presence probe not sent",
            );
        },
      );
  }
}
