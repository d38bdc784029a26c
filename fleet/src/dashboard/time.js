// @ts-check
// Times as a bank reads them: in the time zone of the container's branch, with the zone
// named, or in the viewer's own zone (switchable, remembered); one format per language,
// to the second, without milliseconds.
import { locale } from "./i18n.js";

/** @typedef {"container" | "viewer"} ZoneMode */

const ZONE_KEY = "lockfleet.timeZone";

/** @type {ZoneMode} */
let mode = globalThis.localStorage?.getItem(ZONE_KEY) === "viewer" ? "viewer" : "container";
/** The zone used where no container is in view (the bank's first branch), set at start. */
let homeZone = viewerZone();

export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function zoneMode() {
  return mode;
}

/** @param {ZoneMode} next */
export function setZoneMode(next) {
  mode = next;
  globalThis.localStorage?.setItem(ZONE_KEY, next);
}

/** @param {string | undefined} zone */
export function setHomeZone(zone) {
  if (zone) homeZone = zone;
}

/**
 * The zone a time is shown in: the container's (else the bank's), or the viewer's.
 * @param {string | null | undefined} [containerZone]
 */
export function shownZone(containerZone) {
  return mode === "viewer" ? viewerZone() : (containerZone ?? homeZone);
}

/**
 * "02.12.2026, 15:33:01 MEZ" / "2 Dec 2026, 15:33:01 CET"; "" for nothing.
 * @param {string | null | undefined} iso
 * @param {string | null} [containerZone]
 */
export function when(iso, containerZone) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    timeZone: shownZone(containerZone),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(date);
}

/**
 * A calendar day alone: "06.12.2026" / "06/12/2026".
 * @param {string | null | undefined} iso
 * @param {string | null} [containerZone]
 */
export function day(iso, containerZone) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), {
    timeZone: shownZone(containerZone),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(iso));
}

/**
 * Offset of `zone` from UTC at `instant`, in minutes.
 * @param {string} zone
 * @param {number} instant
 */
function offsetMinutes(zone, instant) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  /** @param {string} type */
  const part = (type) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    part("year"),
    part("month") - 1,
    part("day"),
    part("hour"),
    part("minute"),
    part("second"),
  );
  return Math.round((asUtc - instant) / 60_000);
}

/**
 * The instant a wall-clock time ("2026-12-06T08:00" from a date or datetime-local input)
 * names in `zone`, as ISO. Two passes settle the offset across a DST change.
 * @param {string} local "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM"
 * @param {string} zone
 */
export function localToIso(local, zone) {
  const [date, time = "00:00"] = local.split("T");
  const [y, m, d] = (date ?? "").split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1, hh ?? 0, mm ?? 0);
  let instant = wall - offsetMinutes(zone, wall) * 60_000;
  instant = wall - offsetMinutes(zone, instant) * 60_000;
  return new Date(instant).toISOString();
}

/**
 * "YYYY-MM-DD" of `instant` in `zone` (for date inputs).
 * @param {number} instant
 * @param {string} zone
 */
export function localDate(instant, zone) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(instant));
}

/**
 * The next calendar day of "YYYY-MM-DD".
 * @param {string} date
 */
export function nextDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, (d ?? 1) + 1)).toISOString().slice(0, 10);
}
