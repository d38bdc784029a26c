/**
 * What every job of the device hub shares: the register of live locks, the settings, the
 * storage and key ring, the broker connection, and how a refusal, a fleet alarm or a device
 * alarm is recorded (stored, logged and emitted on the hub).
 */
import type { EventEmitter } from "node:events";
import { ALARM_PRIORITY, type Alarm, type AlarmKind, formatInstant } from "@lockfleet/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { MqttClient } from "mqtt";
import type { BrokerRejection, EmbeddedBroker } from "../broker/index.js";
import type { BrokerAccounts } from "../broker/mosquitto-dynsec.js";
import type { LockTrust } from "../broker/tls.js";
import { FleetError } from "../errors.js";
import { SecretBox } from "../secrets.js";
import type { FleetStore } from "../storage/fleet-store.js";
import { DeviceMessageGate } from "./device-messages.js";
import type { DeviceRepository } from "./device-repository.js";
import { FleetKeyRing } from "./fleet-keys.js";
import type { DeviceHubEventMap, DeviceHubOptions } from "./hub.js";
import { type LiveDevice, toLive } from "./live-device.js";
import { WriteBehind } from "./write-behind.js";

export const DEFAULTS = {
  offlineGraceMs: 120_000,
  clockDriftToleranceMs: 30_000,
  timeSyncIntervalMs: 6 * 60 * 60_000,
  commandTtlMs: 5 * 60_000,
  keyInstallWaitMs: 10_000,
  auditHeadCheckMs: 10_000,
  auditGroupCommitMs: 2,
  presenceProbeWaitMs: 10_000,
};

export class HubContext {
  readonly store: FleetStore;
  readonly repository: DeviceRepository;
  readonly keys: FleetKeyRing;
  readonly secrets: SecretBox;
  readonly clock: () => number;
  readonly log: FastifyBaseLogger;
  readonly settings: typeof DEFAULTS;
  readonly devices = new Map<string, LiveDevice>();
  readonly orgs = new Set<string>();
  /** How many active locks trust each fleet key: a key nobody needs any more is retired. */
  readonly trustCounts = new Map<string, number>();
  readonly gate: DeviceMessageGate;
  readonly writes: WriteBehind;
  /** The hub, whose events every job emits. */
  readonly events: EventEmitter<DeviceHubEventMap>;
  broker: EmbeddedBroker | undefined;
  /** Broker accounts of locks on an external broker, when the fleet manages them. */
  accounts: BrokerAccounts | undefined;
  /** The CA locks trust for the broker and its pin, when they reach it over TLS. */
  lockTrust: LockTrust | undefined;
  client: MqttClient | undefined;
  timeSyncTimer: NodeJS.Timeout | undefined;
  closed = false;

  constructor(options: DeviceHubOptions, events: EventEmitter<DeviceHubEventMap>) {
    this.events = events;
    this.clock = options.clock ?? Date.now;
    this.log = options.log;
    this.settings = {
      offlineGraceMs: options.offlineGraceMs ?? DEFAULTS.offlineGraceMs,
      clockDriftToleranceMs: options.clockDriftToleranceMs ?? DEFAULTS.clockDriftToleranceMs,
      timeSyncIntervalMs: options.timeSyncIntervalMs ?? DEFAULTS.timeSyncIntervalMs,
      commandTtlMs: options.commandTtlMs ?? DEFAULTS.commandTtlMs,
      keyInstallWaitMs: options.keyInstallWaitMs ?? DEFAULTS.keyInstallWaitMs,
      auditHeadCheckMs: options.auditHeadCheckMs ?? DEFAULTS.auditHeadCheckMs,
      auditGroupCommitMs: options.auditGroupCommitMs ?? DEFAULTS.auditGroupCommitMs,
      presenceProbeWaitMs: options.presenceProbeWaitMs ?? DEFAULTS.presenceProbeWaitMs,
    };
    this.store = options.store;
    this.repository = options.store.devices;
    this.writes = new WriteBehind(this);
    this.gate = new DeviceMessageGate(this.repository, options.redeliveryWindowMs);
    this.secrets = options.secrets ?? SecretBox.load(options.dataDir);
    this.keys = new FleetKeyRing(this.repository, this.secrets, this.clock());
    for (const row of this.repository.activeDevices()) {
      this.track(toLive(row));
    }
  }

  emit<K extends keyof DeviceHubEventMap>(event: K, ...args: DeviceHubEventMap[K]): void {
    (this.events.emit as (event: K, ...args: DeviceHubEventMap[K]) => boolean)(event, ...args);
  }

  track(device: LiveDevice): void {
    this.devices.set(device.deviceId, device);
    this.orgs.add(device.orgId);
    if (device.status === "active") this.countTrust(device.trustedKeyIds, 1);
  }

  countTrust(keyIds: readonly string[], delta: 1 | -1): void {
    for (const keyId of keyIds)
      this.trustCounts.set(keyId, (this.trustCounts.get(keyId) ?? 0) + delta);
  }

  device(deviceId: string): LiveDevice {
    const device = this.devices.get(deviceId);
    if (device === undefined) {
      throw new FleetError(
        "E_NOT_FOUND",
        `lock ${deviceId} does not exist or is outside your scope`,
        404,
      );
    }
    return device;
  }

  raiseFleetAlarm(device: LiveDevice, kind: AlarmKind, data: Record<string, unknown>): void {
    const now = this.clock();
    const head = this.repository.auditHead(device.deviceId);
    const alarm: Alarm = {
      deviceId: device.deviceId,
      alarm: kind,
      priority: ALARM_PRIORITY[kind],
      at: formatInstant(now),
      auditSeq: Math.max(1, head.seq),
      actor: null,
      data: { source: "fleet", ...data },
    };
    this.storeAlarm(device, alarm, "fleet");
  }

  storeAlarm(device: LiveDevice, alarm: Alarm, source: "device" | "fleet"): void {
    try {
      this.repository.insertAlarm({
        deviceId: device.deviceId,
        orgId: device.orgId,
        alarm: alarm.alarm,
        priority: alarm.priority,
        at: alarm.at,
        source,
        alarmJson: JSON.stringify(alarm),
        receivedAt: formatInstant(this.clock()),
      });
    } catch (error) {
      if (this.closed) return;
      this.log.error({ err: error, deviceId: device.deviceId }, "E_ALARM_WRITE: alarm not stored");
    }
    this.emit("alarm", device.deviceId, alarm);
  }

  /** A refused message or connection: stored as a security event, logged, emitted. */
  reject(
    device: { deviceId: string; orgId: string } | undefined,
    kind: string,
    reason: string,
    extra: { topic?: string; clientId?: string } = {},
  ): void {
    // Written with the next batch: a flood of refused messages must not become a flood of
    // synchronous commits (that would make refusing them a denial of service).
    this.writes.queueSecurity({
      at: formatInstant(this.clock()),
      deviceId: device?.deviceId,
      orgId: device?.orgId,
      kind,
      clientId: extra.clientId,
      topic: extra.topic?.slice(0, 300),
      reason: reason.slice(0, 1000),
    });
    this.log.warn({ deviceId: device?.deviceId, kind }, reason);
    this.emit("rejected", device?.deviceId, reason);
  }

  onBrokerRejection(rejection: BrokerRejection): void {
    const identity = rejection.identity;
    const device =
      identity === undefined ? undefined : { deviceId: identity.deviceId, orgId: identity.org };
    this.reject(device, `mqtt.${rejection.kind}`, rejection.reason, {
      clientId: rejection.clientId,
      ...(rejection.topic === undefined ? {} : { topic: rejection.topic }),
    });
  }

  refuseMessage(device: LiveDevice, topic: string, code: string, message: string): void {
    this.reject(device, "message.refused", `${code}: ${message}`, { topic });
  }
}
