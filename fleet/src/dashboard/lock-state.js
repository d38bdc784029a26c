// What a person needs to know about a lock at a glance, from its last state and presence.

/**
 * The broker's last will is only a hint (anyone who may publish on the lock's topic can send
 * it): shown next to the status, which follows what the lock itself signed.
 *
 * @returns {{ state: "locked"|"delay"|"window"|"open"|"alarm"|"offline"|"unknown", label: string, endsAt?: string }}
 */
export function lockStatus(lock, openAlarms = 0) {
  const status = signedStatus(lock, openAlarms);
  if (lock?.availabilityHint && status.state !== "offline") {
    return { ...status, label: `${status.label} (broker: offline?, being checked)` };
  }
  return status;
}

function signedStatus(lock, openAlarms) {
  if (!lock) return { state: "unknown", label: "No lock enrolled" };
  if (lock.availability === "offline") return { state: "offline", label: "Offline" };
  const s = lock.state;
  if (!s) return { state: "unknown", label: "No state yet" };
  if (
    openAlarms > 0 ||
    (s.activeAlarms ?? []).length > 0 ||
    s.bolt === "jammed" ||
    s.door === "forced"
  ) {
    const kinds = (s.activeAlarms ?? []).join(", ");
    return { state: "alarm", label: kinds ? `Alarm: ${kinds}` : "Alarm" };
  }
  const phase = s.cycle?.phase;
  if (
    phase === "open" ||
    phase === "released" ||
    s.door === "open" ||
    s.door === "ajar" ||
    s.bolt === "retracted"
  ) {
    return { state: "open", label: "Open" };
  }
  if (phase === "window")
    return { state: "window", label: "Window open", endsAt: s.cycle.windowEndsAt };
  if (phase === "delay")
    return { state: "delay", label: "Delay running", endsAt: s.cycle.delayEndsAt };
  if (s.bolt === "thrown") {
    if (s.blocked) return { state: "locked", label: "Locked (blocked)" };
    if (s.timeLocked) return { state: "locked", label: "Locked (time lock)" };
    if (s.penaltyUntil) return { state: "locked", label: "Locked (penalty)" };
    return { state: "locked", label: "Locked" };
  }
  return { state: "unknown", label: `Bolt ${s.bolt}` };
}

/** "4:05" left until `endsAt`, or "" when passed or absent. */
export function countdown(endsAt, now = Date.now()) {
  if (!endsAt) return "";
  const left = Math.max(0, Math.round((Date.parse(endsAt) - now) / 1000));
  if (left === 0) return "";
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}
