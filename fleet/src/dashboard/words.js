// @ts-check
// Alarm and audit kinds in words a control room reads, in the dashboard's language.
import { t } from "./i18n.js";

/** @type {Record<import("./types.js").AlarmKind, string>} */
const ALARM_WORDS = {
  forcedUser: "Duress",
  doorForcedOpen: "Door forced open",
  doorAjar: "Door left open",
  lockJammed: "Bolt jammed",
  tamper: "Tampering",
  wrongCodeEntryLimit: "Too many wrong codes",
  powerLoss: "Power lost",
  lockOffline: "Lock offline",
  clockDrift: "Lock clock wrong",
  auditGap: "Audit records missing",
  selfTestFault: "Self-test fault",
  storageFault: "Lock storage fault",
  forgedMessage: "Forged message for the lock",
  auditRegression: "Audit log went backwards",
};

/** @param {string} kind */
export function alarmWords(kind) {
  return t(ALARM_WORDS[/** @type {import("./types.js").AlarmKind} */ (kind)] ?? kind);
}

/** @type {Record<string, string>} */
const ROLE_WORDS = {
  securityAdmin: "Security admin",
  branchManager: "Branch manager",
  auditor: "Auditor",
  technician: "Technician",
  citDispatcher: "CIT dispatcher",
  citCrew: "CIT crew",
};

/** An account's role in words ("Security admin"). @param {string} role */
export function roleWords(role) {
  return t(ROLE_WORDS[role] ?? role);
}

/** @param {string} priority */
export function priorityWords(priority) {
  return t(
    { critical: "critical", high: "high", medium: "medium", low: "low" }[priority] ?? priority,
  );
}

/** @type {Record<string, string>} */
const AUDIT_WORDS = {
  "device.started": "Lock started",
  "power.lost": "Power lost",
  "power.failed": "Power failed",
  "power.restored": "Power restored",
  "code.accepted": "Code accepted",
  "code.rejected": "Wrong code",
  "code.changed": "Code changed",
  "cycle.started": "Opening started",
  "cycle.delayStarted": "Time delay started",
  "cycle.windowOpened": "Confirmation window opened",
  "cycle.confirmed": "Opening confirmed",
  "cycle.cancelled": "Opening cancelled",
  "cycle.expired": "Opening expired",
  "bolt.retracted": "Bolt retracted",
  "bolt.thrown": "Bolt thrown",
  "door.opened": "Door opened",
  "door.closed": "Door closed",
  "lock.relocked": "Relocked",
  "alarm.raised": "Alarm raised",
  "alarm.cleared": "Alarm cleared",
  "penalty.started": "Wrong-code lockout started",
  "penalty.ended": "Wrong-code lockout ended",
  "user.added": "User added",
  "user.changed": "User changed",
  "user.deleted": "User removed",
  "policy.changed": "Policy changed",
  "timeLock.scheduleChanged": "Time-lock schedule changed",
  "timeLock.holidaysChanged": "Holidays changed",
  "timeLock.immediate": "Immediate time lock",
  "remote.blocked": "Blocked remotely",
  "remote.unblocked": "Unblocked remotely",
  "remote.centralRelease": "Central release",
  "grant.installed": "Access window installed",
  "grant.used": "Access window used",
  "grant.revoked": "Access window revoked",
  "otp.secretInstalled": "One-time code key installed",
  "otp.accepted": "One-time code accepted",
  "otp.rejected": "One-time code refused",
  "command.accepted": "Fleet command accepted",
  "command.rejected": "Fleet command refused",
  "time.changed": "Clock set",
  "time.rejected": "Clock setting refused",
  "fleetKey.installed": "Fleet key installed",
  "fleetKey.retired": "Fleet key retired",
  "selfTest.completed": "Self-test completed",
  "hardware.partFault": "Hardware part fault",
  "hardware.partRestored": "Hardware part restored",
  "lock.fault": "Lock fault",
  "audit.checkpoint": "Audit checkpoint",
  "audit.acknowledged": "Audit records acknowledged by the fleet",
  "update.offered": "Software update offered",
  "update.refused": "Software update refused",
  "update.downloading": "Software update downloading",
  "update.verified": "Software update verified",
  "update.installed": "Software update installed",
  "update.switched": "Switched to the new software",
  "update.healthy": "New software healthy",
  "update.rolledBack": "New software rolled back",
  "update.keysAccepted": "Release keys rotated",
  "update.keysRefused": "Release key set refused",
};

/** @param {string} kind */
export function auditWords(kind) {
  return t(AUDIT_WORDS[kind] ?? kind);
}

/** Record kinds that are bookkeeping between lock and fleet, folded away by default. */
export const BOOKKEEPING_KINDS = ["audit.acknowledged", "audit.checkpoint"];

/**
 * The parts of a record's data worth reading, as "key: value" pairs; ids and hashes left out.
 * @param {Record<string, unknown> | undefined} data
 * @param {(id: string) => string} name
 */
export function detailWords(data, name) {
  if (!data) return "";
  return Object.entries(data)
    .filter(([key]) => !/hash|signature|^seq$/i.test(key))
    .map(([key, value]) => {
      if (typeof value === "string" && /^(per|usr)_/.test(value)) return `${key}: ${name(value)}`;
      if (Array.isArray(value))
        return `${key}: ${value.map((v) => (typeof v === "string" ? name(v) : JSON.stringify(v))).join(", ")}`;
      if (value !== null && typeof value === "object") return `${key}: ${JSON.stringify(value)}`;
      return `${key}: ${String(value)}`;
    })
    .join(" · ");
}
