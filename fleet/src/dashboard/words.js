// @ts-check
// Alarm, audit and admin-log kinds in words a control room reads, in the dashboard's language.
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
  fleetStorage: "Fleet storage refuses writes",
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

/**
 * What the fleet writes to its admin log, in words. A test reads the fleet's sources for every
 * action it writes and checks each has words here and in German.
 * @type {Record<string, string>}
 */
export const ADMIN_LOG_WORDS = {
  "access.refused": "Access refused",
  "alarm.acknowledge": "Alarm acknowledged",
  "auth.login": "Logged in",
  "auth.loginFailed": "Login failed",
  "auth.passwordChange": "Password changed",
  "auth.tokenCreate": "API token created",
  "auth.tokenRevoke": "API token revoked",
  "bankSettings.change": "Bank settings changed",
  "branch.create": "Branch created",
  "branch.update": "Branch changed",
  "centralRelease.approve": "Central release approved",
  "centralRelease.approve.refused": "Central release approval refused",
  "centralRelease.reject": "Central release rejected",
  "centralRelease.request": "Central release requested",
  "centralRelease.send": "Central release sent to the lock",
  "centralRelease.withdraw": "Central release withdrawn",
  "container.create": "Container created",
  "container.update": "Container changed",
  "contract.create": "Contract created",
  "contract.terminate": "Contract terminated",
  "contract.update": "Contract changed",
  "device.clockCorrection.approve": "Lock clock correction approved",
  "device.clockCorrection.approve.refused": "Lock clock correction approval refused",
  "device.clockCorrection.propose": "Lock clock correction proposed",
  "device.clockCorrection.reject": "Lock clock correction rejected",
  "device.clockCorrection.send": "Lock clock correction sent to the lock",
  "device.enrol": "Lock enrolled",
  "enrolmentToken.create": "Enrolment token created",
  "fleet.addOfficer": "Officer added at set-up",
  "fleet.init": "Fleet set up",
  "fleetKey.rotate": "Fleet key rotation started",
  "fleetKey.rotated": "Fleet key rotated",
  "org.create": "Organisation created",
  "org.rename": "Organisation renamed",
  "person.expire": "Person expired",
  "person.create": "Person added",
  "person.delete": "Person deleted",
  "person.disable": "Person disabled",
  "person.enable": "Person enabled",
  "person.identify": "Person identified",
  "pinLetter.download": "PIN letter downloaded",
  "pinLetter.download.refused": "PIN letter download refused",
  "policy.approve": "Policy change approved",
  "policy.approve.refused": "Policy change approval refused",
  "policy.propose": "Policy change proposed",
  "policy.reject": "Policy change rejected",
  "policy.send": "Policy change sent to the locks",
  "proposal.approve": "Proposal approved",
  "proposal.approve.refused": "Proposal approval refused",
  "proposal.create": "Proposal made",
  "proposal.reject": "Proposal rejected",
  "proposal.withdraw": "Proposal withdrawn",
  "region.create": "Region created",
  "release.add": "Software release added",
  "release.add.refused": "Software release refused",
  "release.target": "Software release target file added",
  "releaseKeys.add": "Release keys added",
  "releaseKeys.add.refused": "Release keys refused",
  "report.generate": "Report generated",
  "rights.change": "Right changed",
  "rights.grant": "Right given",
  "rights.push": "Right sent to the locks",
  "rights.push.failed": "Right could not be sent to a lock",
  "rights.push.result": "Lock answered a right",
  "rights.remove": "Right removed",
  "risk.export": "Risk register exported",
  "risk.override": "Risk level set by hand",
  "risk.overrideClear": "Hand-set risk level cleared",
  "risk.recompute": "Risk levels recomputed",
  "risk.update": "Risk register changed",
  "rollout.approve": "Software rollout approved",
  "rollout.approve.refused": "Software rollout approval refused",
  "rollout.pause": "Software rollout paused",
  "rollout.propose": "Software rollout proposed",
  "rollout.reject": "Software rollout rejected",
  "rollout.resume": "Software rollout resumed",
  "rollout.widen.approve": "Rollout widening approved",
  "rollout.widen.approve.refused": "Rollout widening approval refused",
  "rollout.widen.propose": "Rollout widening proposed",
  "rollout.widen.reject": "Rollout widening rejected",
  "user.create": "Account created",
  "user.disable": "Account disabled",
  "user.passwordReset": "Password reset",
  "user.role": "Account role changed",
  "window.active": "Access window active",
  "window.approve": "Access window approval given",
  "window.approve.refused": "Access window approval refused",
  "window.approve.withdrawn": "Unfinished approval withdrawn after a restart",
  "window.approved": "Access window approved",
  "window.audit.failed": "Access window audit records unreadable",
  "window.autoApprove": "Access window approved by contract",
  "window.close": "Access window closed",
  "window.closeSeal.refused": "Close seal refused",
  "window.codeSpent": "One-time code used",
  "window.codes.issued": "One-time codes issued",
  "window.codes.refused": "One-time codes refused",
  "window.expire": "Access window expired",
  "window.grant.failed": "Access window could not be sent to the lock",
  "window.grant.result": "Lock answered an access window",
  "window.grant.sent": "Access window sent to the lock",
  "window.reject": "Access window rejected",
  "window.reject.refused": "Access window rejection refused",
  "window.request": "Access window requested",
  "window.revoke": "Access window revoked",
  "window.revoke.refused": "Access window revocation refused",
  "window.revoke.result": "Lock answered a revocation",
  "window.used": "Access window used",
};

/** An admin-log action in words ("Unfinished approval withdrawn after a restart"). @param {string} action */
export function adminLogWords(action) {
  return t(ADMIN_LOG_WORDS[action] ?? action);
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
