/**
 * MQTT intake: every message from a lock is refused unread when too large, admitted by the
 * device-message gate (signature, sequence, validity), checked against the lock it claims to
 * come from, and routed by kind: state, availability, audit, alarm, checkpoint, result.
 */
import {
  type CommandBody,
  type CommandResult,
  type CommandType,
  formatInstant,
  type LockState,
  MAX_DEVICE_MESSAGE_BYTES,
  type OpenedDeviceMessage,
  type ParsedTopic,
  parseInstant,
  parseTopic,
} from "@lockfleet/protocol";
import type { IPublishPacket } from "mqtt";
import type { AuditIntake } from "./audit-intake.js";
import { type ClockSync, LOCK_CLOCK_COMMANDS, lockTimeAfter } from "./clock-sync.js";
import type { CommandDispatch } from "./command-dispatch.js";
import type { Admission } from "./device-messages.js";
import type { HubContext } from "./hub-context.js";
import type { KeyRotation } from "./key-rotation.js";
import type { LiveDevice } from "./live-device.js";
import type { Presence } from "./presence.js";

/** A source (lock and topic) of refused messages raises forgedMessage at most this often. */
const FORGERY_ALARM_INTERVAL_MS = 60 * 60_000;

export class MessageIntake {
  readonly #ctx: HubContext;
  readonly #presence: Presence;
  readonly #clockSync: ClockSync;
  readonly #audit: AuditIntake;
  readonly #dispatch: CommandDispatch;
  readonly #keyRotation: KeyRotation;
  /** When each source of refused messages (lock and topic) last raised forgedMessage. */
  readonly #forgeryAlarms = new Map<string, number>();

  constructor(
    ctx: HubContext,
    presence: Presence,
    clockSync: ClockSync,
    audit: AuditIntake,
    dispatch: CommandDispatch,
    keyRotation: KeyRotation,
  ) {
    this.#ctx = ctx;
    this.#presence = presence;
    this.#clockSync = clockSync;
    this.#audit = audit;
    this.#dispatch = dispatch;
    this.#keyRotation = keyRotation;
  }

  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.#ctx.closed) return;
    const parsed = parseTopic(topic);
    if (!parsed.ok) return; // the fleet's subscriptions only match the layout
    const device = this.#ctx.devices.get(parsed.value.deviceId);
    if (device === undefined || device.orgId !== parsed.value.org) {
      this.#onStranger(parsed.value, device, topic);
      return;
    }
    if (device.status !== "active") {
      this.#ctx.reject(
        device,
        "message.retired",
        `E_DEVICE_RETIRED: retired lock ${device.deviceId} sent on ${topic}`,
        { topic },
      );
      return;
    }
    if (payload.length > MAX_DEVICE_MESSAGE_BYTES) {
      this.#ctx.reject(
        device,
        "message.tooLarge",
        `E_TOO_LARGE: ${payload.length} bytes on ${topic} exceed ${MAX_DEVICE_MESSAGE_BYTES}`,
        { topic },
      );
      return;
    }
    try {
      // Verified over the bytes as received, with the lock's enrolled key, before anything in
      // them is read; then the device sequence of this stream. The lock states validity in its
      // own clock: it is judged against that clock as last measured (a lock whose clock is off
      // would otherwise be refused until corrected, the result of the correction included).
      const admission = this.#ctx.gate.admit(
        device,
        parsed.value.kind,
        payload,
        packet.retain,
        this.#ctx.clock(),
        this.#ctx.clock() + (device.clockDriftMs ?? 0),
      );
      this.#onAdmitted(device, admission, packet.retain, parsed.value.kind, topic);
    } catch (error) {
      // A storage failure must not take the hub down; the lock resends what was not acked.
      this.#ctx.log.error(
        { err: error, deviceId: device.deviceId, topic },
        "E_DEVICE_MESSAGE: not processed",
      );
    }
  }

  #onAdmitted(
    device: LiveDevice,
    admission: Admission,
    retained: boolean,
    kind: ParsedTopic["kind"],
    topic: string,
  ): void {
    switch (admission.verdict) {
      case "duplicate":
        return;
      case "redelivery":
        this.#ctx.reject(
          device,
          "message.redelivery",
          `E_REDELIVERED: ${admission.type} message with device seq ${admission.seq} was accepted moments ago; delivered again, it changes nothing`,
          { topic },
        );
        return;
      case "hint":
        this.#presence.onAvailabilityHint(device);
        return;
      case "refused":
        this.#onRefusedMessage(device, admission, kind, topic);
        return;
    }
    const message: OpenedDeviceMessage = admission.message;
    const snapshot = retained || admission.stale;
    // A live message the lock signed just now is the evidence that it is there; a retained
    // copy is only what it said when it was.
    if (!snapshot && !(message.type === "availability" && message.body.status === "offline")) {
      this.#presence.heardFrom(device);
    }
    switch (message.type) {
      case "state":
        this.#onState(device, message.body, snapshot, topic);
        return;
      case "availability":
        if (!snapshot && message.body.status === "offline") this.#presence.onSignedOffline(device);
        return;
      case "audit":
        this.#audit.ingestAudit(device, message.body.records, topic);
        return;
      case "alarm":
        this.#ctx.storeAlarm(device, message.body, "device");
        return;
      case "checkpoint":
        this.#audit.ingestCheckpoint(device, message.body, topic);
        return;
      case "result":
        this.#onResult(device, message.body, topic);
        return;
    }
  }

  /**
   * Refused: unsigned, signed by another key, replayed, naming another lock, on the wrong
   * topic. Stored as a security event; one forgedMessage alarm per lock and topic at most
   * every FORGERY_ALARM_INTERVAL_MS. A message the lock signed whose validity period does not
   * fit the fleet's clock is a clock matter (its signed time measures the lock's drift).
   */
  #onRefusedMessage(
    device: LiveDevice,
    refusal: Extract<Admission, { verdict: "refused" }>,
    kind: ParsedTopic["kind"],
    topic: string,
  ): void {
    const reason = `${refusal.code}: ${refusal.message}`;
    if (refusal.signedAt !== undefined) {
      this.#ctx.reject(device, "message.stale", reason, { topic });
      this.#clockSync.checkDrift(device, refusal.signedAt, true);
      return;
    }
    this.#ctx.reject(device, "message.forged", reason, { topic });
    const source = `${device.deviceId}/${kind}`;
    const now = this.#ctx.clock();
    const last = this.#forgeryAlarms.get(source);
    if (last !== undefined && now - last < FORGERY_ALARM_INTERVAL_MS) return;
    this.#forgeryAlarms.set(source, now);
    this.#ctx.raiseFleetAlarm(device, "forgedMessage", {
      reason: refusal.code,
      topic: kind,
      detail: refusal.message.slice(0, 300),
    });
  }

  /**
   * A message naming a lock the fleet does not know, or a known lock under another
   * organisation. Recorded when it touches one of the fleet's organisations (a shared external
   * broker also carries other fleets' traffic, which is none of this fleet's business).
   */
  #onStranger(parsed: ParsedTopic, device: LiveDevice | undefined, topic: string): void {
    if (device !== undefined) {
      this.#ctx.reject(
        device,
        "message.wrongOrg",
        `E_WRONG_ORG: message for lock ${device.deviceId} under organisation ${parsed.org}, not ${device.orgId}`,
        { topic },
      );
      return;
    }
    if (this.#ctx.orgs.has(parsed.org)) {
      this.#ctx.reject(
        { deviceId: parsed.deviceId, orgId: parsed.org },
        "message.unknownDevice",
        `E_UNKNOWN_DEVICE: message from unenrolled lock ${parsed.deviceId}`,
        { topic },
      );
    }
  }

  #onState(device: LiveDevice, state: LockState, snapshot: boolean, topic: string): void {
    if (state.org !== device.orgId) {
      this.#ctx.refuseMessage(
        device,
        topic,
        "E_WRONG_DEVICE",
        `state names ${state.org}/${state.deviceId}, published by ${device.orgId}/${device.deviceId}`,
      );
      return;
    }
    this.#checkHeadRegression(device, state.auditHead.seq, topic);
    device.state = state;
    if (!snapshot) this.#clockSync.checkDrift(device, parseInstant(state.at), state.trustedTime);
    this.#ctx.writes.queuePresence({
      deviceId: device.deviceId,
      stateJson: JSON.stringify(state),
      at: state.at,
      clockDriftMs: snapshot ? null : device.clockDriftMs,
    });
    this.#ctx.emit("state", device.deviceId, state);
    this.#audit.scheduleHeadCheck(device, state.auditHead.seq);
  }

  /**
   * A lock's signed audit head below one it reported before, or below the chain the fleet
   * stored from it: its log was rolled back or replaced. Recorded each time, alarmed once
   * until the head is back.
   */
  #checkHeadRegression(device: LiveDevice, reported: number, topic: string): void {
    const known = Math.max(
      device.reportedHead,
      this.#ctx.repository.auditHead(device.deviceId).seq,
    );
    if (reported >= known) {
      device.reportedHead = reported;
      device.regressionAlarmRaised = false;
      return;
    }
    this.#ctx.reject(
      device,
      "audit.headRegression",
      `E_AUDIT_REGRESSION: lock ${device.deviceId} reports its audit head at seq ${reported}, below seq ${known} it reached before`,
      { topic },
    );
    if (device.regressionAlarmRaised) return;
    device.regressionAlarmRaised = true;
    this.#ctx.raiseFleetAlarm(device, "auditRegression", {
      reportedSeq: reported,
      knownSeq: known,
    });
  }

  #onResult(device: LiveDevice, result: CommandResult, topic: string): void {
    const command = this.#ctx.repository.command(result.id);
    if (command === undefined || command.device_id !== device.deviceId) {
      // Also the lock's answer to an envelope it could not read ("unknown"): worth a record.
      this.#ctx.reject(
        device,
        "result.unknown",
        `E_RESULT_UNKNOWN: result for command ${result.id} that was never sent to this lock${result.error === undefined ? "" : ` (${result.error.code}: ${result.error.message})`}`,
        { topic },
      );
      return;
    }
    if (command.status !== "sent" || this.#ctx.writes.answered(result.id)) {
      this.#ctx.reject(
        device,
        "result.replay",
        `E_RESULT_REPLAY: command ${result.id} was already answered`,
        { topic },
      );
      return;
    }
    this.#ctx.writes.queueResult({
      deviceId: device.deviceId,
      commandId: result.id,
      status: result.status,
      resultJson: JSON.stringify(result),
      at: formatInstant(this.#ctx.clock()),
    });
    const clockCommand = LOCK_CLOCK_COMMANDS.has(command.type as CommandType);
    if (clockCommand && result.error?.code === "E_TIME_BACKWARDS")
      device.backwardRefusedAt = this.#ctx.clock();
    this.#clockSync.checkDrift(device, lockTimeAfter(result, clockCommand), true);
    if (command.type === "fleetKey.install" && result.status === "ok") {
      this.#keyRotation.onKeyInstalled(
        device,
        JSON.parse(command.body) as CommandBody<"fleetKey.install">,
      );
      // A lock catching up after a rotation: install done, now drop the key it no longer needs.
      this.#keyRotation.reconcileTrust(device)?.catch((error) => {
        if (!this.#ctx.closed)
          this.#ctx.log.warn({ err: error, deviceId: device.deviceId }, "key not sent");
      });
    }
    this.#dispatch.settle(result);
    this.#ctx.emit("result", device.deviceId, result);
  }
}
