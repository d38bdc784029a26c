/**
 * Measured behaviour of one CIT provider under one contract over a period, per risk category:
 * how often it happened, against what, and which records show it. Pure: the records come in,
 * figures and references go out.
 */
import type {
  MeasuredAuditRecord,
  MeasuredOpening,
  MeasuredSealRefusal,
  MeasuredWindow,
} from "./evidence-repository.js";
import { LATE_SEAL_MS, RISK_CATEGORIES, type RiskCategory, WINDOW_ALARM_KINDS } from "./scales.js";

/** A record behind a figure: an access window, an opening under it, a lock audit record, … */
export interface EvidenceReference {
  type: "window" | "opening" | "audit" | "alarm" | "sealRefusal";
  /** Window id, alarm id, opening row, seal refusal row, or `<deviceId>#<seq>` for audit. */
  id: string;
  at: string;
  /** Which rule the record broke, e.g. `openedAfterEnd`, `sealMissing`. */
  finding: string;
}

export interface Measurement {
  numerator: number;
  denominator: number;
  /** numerator / denominator, or null when there was nothing to measure against. */
  rate: number | null;
  counts: Record<string, number>;
  references: EvidenceReference[];
  /** How many references were left out of `references` (kept bounded). */
  referencesOmitted: number;
}

export interface MeasuredAlarm {
  id: string;
  kind: string;
  containerId: string | null;
  raisedAt: string;
}

export interface MeasurementInput {
  period: { from: string; to: string };
  now: string;
  /** Every decided window of the contract (coverage reaches across the period's edges). */
  windows: readonly MeasuredWindow[];
  openings: readonly MeasuredOpening[];
  sealRefusals: readonly MeasuredSealRefusal[];
  providerPeople: ReadonlySet<string>;
  /** `cycle.confirmed` records on the contract's containers in the period. */
  lockOpenings: readonly MeasuredAuditRecord[];
  /** `otp.rejected` records on the contract's containers in the period. */
  otpRejections: readonly MeasuredAuditRecord[];
  /** Alarms on the bank's containers raised in the period. */
  alarms: readonly MeasuredAlarm[];
}

export const MAX_REFERENCES = 100;

function measurement(
  numerator: number,
  denominator: number,
  counts: Record<string, number>,
  references: EvidenceReference[],
): Measurement {
  return {
    numerator,
    denominator,
    rate: denominator > 0 ? numerator / denominator : null,
    counts,
    references: references.slice(0, MAX_REFERENCES),
    referencesOmitted: Math.max(0, references.length - MAX_REFERENCES),
  };
}

const ms = (instant: string) => Date.parse(instant);
const inPeriod = (at: string, period: { from: string; to: string }) =>
  ms(at) >= ms(period.from) && ms(at) < ms(period.to);

/** Until when a window allowed access: its end, or its revocation or close if earlier. */
function allowedUntil(window: MeasuredWindow): number {
  return Math.min(
    ms(window.notAfter),
    ...[window.revokedAt, window.closedAt].filter((v): v is string => v !== null).map(ms),
  );
}

export function measureContract(input: MeasurementInput): Record<RiskCategory, Measurement> {
  const { period } = input;
  const now = ms(input.now);
  // Windows count in the period they started in, so each window is counted once over periods.
  const windows = input.windows.filter((w) => inPeriod(w.notBefore, period));
  const windowById = new Map(windows.map((w) => [w.id, w]));
  const openings = input.openings.filter((o) => windowById.has(o.windowId));

  // Overrun: an opening or the close after the window's end.
  const overrunRefs: EvidenceReference[] = [];
  const overrun = new Set<string>();
  let openedAfterEnd = 0;
  let closedAfterEnd = 0;
  for (const opening of openings) {
    const window = windowById.get(opening.windowId);
    if (window !== undefined && ms(opening.at) > ms(window.notAfter)) {
      openedAfterEnd += 1;
      overrun.add(window.id);
      overrunRefs.push({
        type: "opening",
        id: String(opening.id),
        at: opening.at,
        finding: "openedAfterEnd",
      });
    }
  }
  for (const window of windows) {
    if (window.closedAt !== null && ms(window.closedAt) > ms(window.notAfter)) {
      closedAfterEnd += 1;
      overrun.add(window.id);
      overrunRefs.push({
        type: "window",
        id: window.id,
        at: window.closedAt,
        finding: "closedAfterEnd",
      });
    }
  }

  // Close seals: verified more than LATE_SEAL_MS after the opening, or still missing once
  // both that time and the window are over.
  const sealRefs: EvidenceReference[] = [];
  let late = 0;
  let missing = 0;
  let refusedOpenings = 0;
  for (const opening of openings) {
    const window = windowById.get(opening.windowId);
    const due = ms(opening.at) + LATE_SEAL_MS;
    if (opening.sealStatus === "verified" && opening.sealedAt !== null) {
      if (ms(opening.sealedAt) > due) {
        late += 1;
        sealRefs.push({
          type: "opening",
          id: String(opening.id),
          at: opening.at,
          finding: "sealLate",
        });
      }
    } else if (opening.sealStatus === "open") {
      const over = Math.max(due, window === undefined ? due : ms(window.notAfter));
      if (now > over) {
        missing += 1;
        sealRefs.push({
          type: "opening",
          id: String(opening.id),
          at: opening.at,
          finding: "sealMissing",
        });
      }
    } else {
      refusedOpenings += 1;
    }
  }

  // Openings by the provider's people on the contract's containers outside every window.
  const providerOpenings = input.lockOpenings.filter((record) =>
    record.persons.some((person) => input.providerPeople.has(person)),
  );
  const outsideRefs: EvidenceReference[] = [];
  for (const record of providerOpenings) {
    const at = ms(record.at);
    const covered = input.windows.some(
      (w) => w.containerId === record.containerId && ms(w.notBefore) <= at && at <= allowedUntil(w),
    );
    if (!covered) {
      outsideRefs.push({
        type: "audit",
        id: `${record.deviceId}#${record.seq}`,
        at: record.at,
        finding: "openedOutsideWindow",
      });
    }
  }

  // Alarms on the window's container between its start and its actual end (a late close too).
  const alarmKinds = new Set<string>(WINDOW_ALARM_KINDS);
  const alarmRefs: EvidenceReference[] = [];
  const alarmCounts: Record<string, number> = Object.fromEntries(
    WINDOW_ALARM_KINDS.map((kind) => [kind, 0]),
  );
  for (const alarm of input.alarms) {
    if (!alarmKinds.has(alarm.kind) || alarm.containerId === null) continue;
    const at = ms(alarm.raisedAt);
    const during = windows.some(
      (w) =>
        w.containerId === alarm.containerId &&
        ms(w.notBefore) <= at &&
        at <= Math.max(ms(w.notAfter), w.closedAt === null ? 0 : ms(w.closedAt)),
    );
    if (!during) continue;
    alarmCounts[alarm.kind] = (alarmCounts[alarm.kind] ?? 0) + 1;
    alarmRefs.push({ type: "alarm", id: alarm.id, at: alarm.raisedAt, finding: alarm.kind });
  }

  const revoked = windows.filter((w) => w.status === "revoked" || w.revokedAt !== null);

  // Refusals: one-time codes the provider's people entered and the lock refused, close seals
  // that did not verify.
  const otpRefused = input.otpRejections.filter(
    (record) => record.actor !== null && input.providerPeople.has(record.actor),
  );
  const sealRefusals = input.sealRefusals.filter(
    (refusal) => refusal.windowId !== null && windowById.has(refusal.windowId),
  );
  const refusedRefs: EvidenceReference[] = [
    ...otpRefused.map(
      (record): EvidenceReference => ({
        type: "audit",
        id: `${record.deviceId}#${record.seq}`,
        at: record.at,
        finding: "otpRejected",
      }),
    ),
    ...sealRefusals.map(
      (refusal): EvidenceReference => ({
        type: "sealRefusal",
        id: String(refusal.id),
        at: refusal.at,
        finding: "sealRefused",
      }),
    ),
  ];

  const result: Record<RiskCategory, Measurement> = {
    windowOverrun: measurement(
      overrun.size,
      windows.length,
      { windows: windows.length, windowsOverrun: overrun.size, openedAfterEnd, closedAfterEnd },
      overrunRefs,
    ),
    closeSeal: measurement(
      late + missing,
      openings.length,
      {
        openings: openings.length,
        sealsLate: late,
        sealsMissing: missing,
        sealsRefused: refusedOpenings,
      },
      sealRefs,
    ),
    openingOutsideWindow: measurement(
      outsideRefs.length,
      providerOpenings.length,
      { providerOpenings: providerOpenings.length, outsideWindows: outsideRefs.length },
      outsideRefs,
    ),
    alarmDuringWindow: measurement(
      alarmRefs.length,
      windows.length,
      { windows: windows.length, alarms: alarmRefs.length, ...alarmCounts },
      alarmRefs,
    ),
    revokedWindow: measurement(
      revoked.length,
      windows.length,
      { windows: windows.length, revoked: revoked.length },
      revoked.map((w) => ({
        type: "window",
        id: w.id,
        at: w.revokedAt ?? w.notBefore,
        finding: "revoked",
      })),
    ),
    refusedCredentials: measurement(
      refusedRefs.length,
      windows.length,
      {
        windows: windows.length,
        otpRejected: otpRefused.length,
        sealsRefused: sealRefusals.length,
      },
      refusedRefs,
    ),
  };
  // every category measured, in the order the register lists them
  return Object.fromEntries(RISK_CATEGORIES.map((c) => [c, result[c]])) as Record<
    RiskCategory,
    Measurement
  >;
}
