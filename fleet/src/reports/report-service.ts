/**
 * Builds the reports from the repository's rows. Figures rest only on verified lock audit and
 * the hash-chained admin log; the notes say when a lock's audit has an open gap.
 */
import { type AuditData, auditDataOf } from "@lockfleet/protocol";
import type { AlarmRepository } from "../alarms/alarm-repository.js";
import { FleetError } from "../errors.js";
import type { FleetStore } from "../storage/fleet-store.js";
import {
  type Cell,
  type Column,
  REPORT_TITLES,
  type Report,
  type ReportKind,
  type ReportQuery,
  type Table,
} from "./report.js";
import {
  type AuditRow,
  type ContainerName,
  REPORT_ROW_LIMIT,
  type ReportRepository,
} from "./report-repository.js";

const DAY = 24 * 60 * 60_000;
export const DEFAULT_REPORT_DAYS = 30;
export const MAX_REPORT_DAYS = 366;

/** The period `[from, to)`; by default the last 30 days up to now. */
export function reportPeriod(
  input: { from?: string | undefined; to?: string | undefined },
  now: number,
): { from: string; to: string } {
  const to = input.to === undefined ? now : Date.parse(input.to);
  const from = input.from === undefined ? to - DEFAULT_REPORT_DAYS * DAY : Date.parse(input.from);
  if (Number.isNaN(from) || Number.isNaN(to)) {
    throw new FleetError("E_REPORT_PERIOD", "from and to must be ISO 8601 instants");
  }
  if (from >= to) throw new FleetError("E_REPORT_PERIOD", "from must be before to");
  if (to - from > MAX_REPORT_DAYS * DAY) {
    throw new FleetError("E_REPORT_PERIOD", `a report covers at most ${MAX_REPORT_DAYS} days`);
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function countTable(title: string, label: string, counts: Map<string, number>): Table {
  const columns: Column[] = [
    { key: "name", label },
    { key: "count", label: "Count" },
  ];
  const rows = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, count]) => ({ name, count }));
  return { title, columns, rows };
}

interface Opening {
  at: string;
  deviceId: string;
  containerId: string;
  openingNumber: number | null;
  persons: string[];
  seq: number;
}

function openingsFrom(rows: readonly AuditRow[]): Opening[] {
  return rows.map((row) => {
    const confirmed = auditDataOf(row, "cycle.confirmed");
    const persons = confirmed.ok ? confirmed.value.persons : row.actor === null ? [] : [row.actor];
    return {
      at: row.at,
      deviceId: row.deviceId,
      containerId: row.containerId,
      openingNumber: confirmed.ok ? confirmed.value.openingNumber : null,
      persons,
      seq: row.seq,
    };
  });
}

/** Lock audit kinds the hardware report covers, with what each means to a reader. */
export const HARDWARE_EVENT_KINDS: Readonly<Record<string, string>> = {
  "power.failed": "Mains failed, lock on reserve",
  "power.restored": "Mains restored",
  "power.lost": "Unclean restart (power lost without warning)",
  "hardware.partFault": "Part failed, lock works on",
  "hardware.partRestored": "Part working again",
  "lock.fault": "Lock failed secure (fault locked)",
  "selfTest.completed": "Self-test completed",
  "time.changed": "Lock time set by the fleet",
  "time.rejected": "Lock time change refused",
};

const text = (value: string | undefined): string | undefined =>
  value !== undefined && value.length > 0 ? value : undefined;

/** "5 ok; fault: keypad, buzzer; not fitted: display" from a self-test's per-part results. */
function selfTestSummary(data: AuditData<"selfTest.completed">): string {
  const byResult = new Map<string, string[]>();
  for (const { part, result } of data.parts) {
    const parts = byResult.get(result) ?? [];
    parts.push(text(part) ?? "?");
    byResult.set(result, parts);
  }
  const ok = byResult.get("ok")?.length ?? 0;
  const pieces = [`${ok} ok`];
  for (const [result, parts] of byResult) {
    if (result === "ok") continue;
    pieces.push(`${result === "notFitted" ? "not fitted" : result}: ${parts.join(", ")}`);
  }
  const profile = text(data.hardwareProfile);
  return `${profile === undefined ? "" : `${profile}: `}${pieces.join("; ")}`;
}

/**
 * One line on what an audit record of the hardware report says beyond its kind; null when
 * there is nothing more, or the record's data does not read as its kind.
 */
function hardwareDetail(row: AuditRow): string | null {
  switch (row.kind) {
    case "selfTest.completed": {
      const read = auditDataOf(row, "selfTest.completed");
      return read.ok ? selfTestSummary(read.value) : null;
    }
    case "hardware.partFault": {
      const read = auditDataOf(row, "hardware.partFault");
      if (!read.ok) return null;
      const { part, code, error } = read.value;
      const head = [text(part), text(code)].filter((v) => v !== undefined).join(" ");
      return [head, text(error)].filter((v) => v !== undefined && v.length > 0).join(": ") || null;
    }
    case "hardware.partRestored": {
      const read = auditDataOf(row, "hardware.partRestored");
      return read.ok ? (text(read.value.part) ?? null) : null;
    }
    case "lock.fault": {
      const read = auditDataOf(row, "lock.fault");
      return read.ok ? (text(read.value.error) ?? null) : null;
    }
    case "time.changed":
    case "time.rejected": {
      const read = auditDataOf(row, row.kind);
      if (!read.ok) return null;
      const { from, to, jumpMs, reason } = read.value;
      const jump = ` (jump ${jumpMs / 1000} s)`;
      return `${from} -> ${to}${jump}${text(reason) === undefined ? "" : `: ${reason}`}`;
    }
    case "power.failed":
    case "power.restored": {
      const read = auditDataOf(row, row.kind);
      return read.ok ? read.value.source : null;
    }
    default:
      return null;
  }
}

/** The person a lock's user record names (user.added, user.changed, user.deleted). */
function userRecordPerson(row: AuditRow): string | null {
  for (const kind of ["user.added", "user.changed", "user.deleted"] as const) {
    const read = auditDataOf(row, kind);
    if (read.ok) return read.value.personId;
  }
  return null;
}

export class ReportService {
  readonly repository: ReportRepository;

  private readonly alarms: AlarmRepository;

  constructor(
    store: Pick<FleetStore, "readModels" | "alarms">,
    private readonly clock: () => number,
  ) {
    this.repository = store.readModels.reports;
    this.alarms = store.alarms;
  }

  build(kind: ReportKind, query: ReportQuery, generatedBy: string): Report {
    const orgName = this.repository.orgName(query.orgId) ?? query.orgId;
    const containers = this.repository.containerNames(query.orgId);
    const containerLabel = (id: string) => {
      const found = containers.get(id);
      return found === undefined ? id : `${found.branchName} / ${found.name}`;
    };
    this.repository.truncated = false;
    const body = this.#body(kind, query, containers, containerLabel);
    const gaps = this.repository.locksWithAuditGap(query.orgId);
    const notes = [
      "Lock figures come only from audit records whose hash chain and signed checkpoints the fleet verified on receipt.",
      ...(this.repository.truncated
        ? [
            `The period holds more than ${REPORT_ROW_LIMIT} records; only the first are counted. Choose a shorter period.`,
          ]
        : []),
      ...(gaps.length === 0
        ? []
        : [
            `Unresolved audit gaps on ${gaps.join(", ")}: figures for these locks may be incomplete.`,
          ]),
      ...body.notes,
    ];
    const filters: Record<string, string> = {};
    if (query.containerId !== undefined) filters.container = containerLabel(query.containerId);
    if (query.personId !== undefined) filters.person = query.personId;
    return {
      kind,
      title: REPORT_TITLES[kind],
      orgId: query.orgId,
      orgName,
      from: query.from,
      to: query.to,
      generatedAt: new Date(this.clock()).toISOString(),
      generatedBy,
      filters,
      table: body.table,
      summaries: body.summaries,
      notes,
    };
  }

  #body(
    kind: ReportKind,
    query: ReportQuery,
    containers: Map<string, ContainerName>,
    containerLabel: (id: string) => string,
  ): { table: Table; summaries: Table[]; notes: string[] } {
    switch (kind) {
      case "openings":
        return this.#openings(query, containerLabel);
      case "openings-outside-windows":
        return this.#openingsOutsideWindows(query, containerLabel);
      case "alarms":
        return this.#alarms(query, containerLabel);
      case "rights":
        return this.#rights(query, containers, containerLabel);
      case "tenant-activity":
        return this.#tenantActivity(query);
      case "hardware-events":
        return this.#hardwareEvents(query, containerLabel);
    }
  }

  #openings(query: ReportQuery, containerLabel: (id: string) => string) {
    let openings = openingsFrom(this.repository.audit(query, ["cycle.confirmed"]));
    if (query.personId !== undefined) {
      const person = query.personId;
      openings = openings.filter((o) => o.persons.includes(person));
    }
    const names = this.repository.personNames(openings.flatMap((o) => o.persons));
    const rows: Array<Record<string, Cell>> = [];
    for (const opening of openings) {
      const persons = opening.persons.length === 0 ? [null] : opening.persons;
      for (const person of persons) {
        rows.push({
          at: opening.at,
          container: containerLabel(opening.containerId),
          lock: opening.deviceId,
          openingNumber: opening.openingNumber,
          personId: person,
          person: person === null ? null : (names.get(person) ?? person),
        });
      }
    }
    const byPerson = countBy(
      openings.flatMap((o) => o.persons),
      (p) => names.get(p) ?? p,
    );
    return {
      table: {
        title: "Openings (one row per person taking part)",
        columns: [
          { key: "at", label: "Lock time" },
          { key: "container", label: "Container" },
          { key: "lock", label: "Lock" },
          { key: "openingNumber", label: "Opening no." },
          { key: "personId", label: "Person id" },
          { key: "person", label: "Person" },
        ],
        rows,
      },
      summaries: [
        countTable(
          "Openings per container",
          "Container",
          countBy(openings, (o) => containerLabel(o.containerId)),
        ),
        countTable("Openings per person", "Person", byPerson),
      ],
      notes: [],
    };
  }

  #openingsOutsideWindows(query: ReportQuery, containerLabel: (id: string) => string) {
    const contracted = this.repository.contractedContainers(query.orgId);
    const windows = this.repository.windowIntervals(query.orgId, query.from, query.to);
    const contractOpenings = openingsFrom(this.repository.audit(query, ["cycle.confirmed"])).filter(
      (o) => contracted.has(o.containerId),
    );
    // Bank staff open their own containers every day; only an opening in which a CIT crew
    // member or a courier took part needs an access window.
    const cit = this.repository.citOrCourierPersons(
      query.orgId,
      contractOpenings.flatMap((o) => o.persons),
    );
    const openings = contractOpenings.filter((o) => o.persons.some((p) => cit.has(p)));
    const outside = openings.filter(
      (o) =>
        !windows.some((w) => w.containerId === o.containerId && w.start <= o.at && o.at <= w.end),
    );
    const names = this.repository.personNames(outside.flatMap((o) => o.persons));
    return {
      table: {
        title: "Openings by CIT crews or couriers not covered by an approved access window",
        columns: [
          { key: "at", label: "Lock time" },
          { key: "container", label: "Container" },
          { key: "lock", label: "Lock" },
          { key: "openingNumber", label: "Opening no." },
          { key: "persons", label: "Persons" },
        ],
        rows: outside.map((o) => ({
          at: o.at,
          container: containerLabel(o.containerId),
          lock: o.deviceId,
          openingNumber: o.openingNumber,
          persons: o.persons.map((p) => names.get(p) ?? p).join("; "),
        })),
      },
      summaries: [
        countTable(
          "Outside windows per container",
          "Container",
          countBy(outside, (o) => containerLabel(o.containerId)),
        ),
      ],
      notes: [
        `${openings.length} openings by CIT crews or couriers of containers under CIT contracts in the period, ${outside.length} outside any approved window; ${contractOpenings.length - openings.length} openings by bank staff alone are not listed.`,
      ],
    };
  }

  #alarms(query: ReportQuery, containerLabel: (id: string) => string) {
    const alarms = this.alarms.all(
      { kind: "bank", orgId: query.orgId },
      { from: query.from, to: query.to, containerId: query.containerId },
    );
    const names = this.repository.personNames(
      alarms.flatMap((a) => (a.acknowledgedBy === null ? [] : [a.acknowledgedBy])),
    );
    return {
      table: {
        title: "Alarms raised or seen in the period",
        columns: [
          { key: "raisedAt", label: "Raised" },
          { key: "kind", label: "Alarm" },
          { key: "priority", label: "Priority" },
          { key: "container", label: "Container" },
          { key: "lock", label: "Lock" },
          { key: "occurrences", label: "Occurrences" },
          { key: "escalationLevel", label: "Escalation" },
          { key: "status", label: "Status" },
          { key: "acknowledgedAt", label: "Acknowledged" },
          { key: "acknowledgedBy", label: "By" },
          { key: "comment", label: "Comment" },
        ],
        rows: alarms.map((a) => ({
          raisedAt: a.raisedAt,
          kind: a.kind,
          priority: a.priority,
          container: a.containerId === null ? null : containerLabel(a.containerId),
          lock: a.deviceId,
          occurrences: a.occurrences,
          escalationLevel: a.escalationLevel,
          status: a.status,
          acknowledgedAt: a.acknowledgedAt,
          acknowledgedBy:
            a.acknowledgedBy === null ? null : (names.get(a.acknowledgedBy) ?? a.acknowledgedBy),
          comment: a.ackComment,
        })),
      },
      summaries: [
        countTable(
          "Alarms per kind",
          "Alarm",
          countBy(alarms, (a) => a.kind),
        ),
        countTable(
          "Alarms per container",
          "Container",
          countBy(alarms, (a) => (a.containerId === null ? "-" : containerLabel(a.containerId))),
        ),
      ],
      notes: [],
    };
  }

  #rights(
    query: ReportQuery,
    containers: Map<string, ContainerName>,
    containerLabel: (id: string) => string,
  ) {
    const LOCK_ACTIONS: Record<string, string> = {
      "user.added": "added on lock",
      "user.changed": "changed on lock",
      "user.deleted": "removed from lock",
    };
    const lockRows = this.repository.audit(query, Object.keys(LOCK_ACTIONS)).map((row) => ({
      at: row.at,
      source: "lock",
      action: LOCK_ACTIONS[row.kind] ?? row.kind,
      personId: userRecordPerson(row),
      container: containerLabel(row.containerId),
      lock: row.deviceId,
      by: row.actor,
    }));
    const adminRows = this.repository
      .adminLog(query, ["right.", "rights.", "person."])
      .map((entry) => {
        const personId =
          typeof entry.data.personId === "string"
            ? entry.data.personId
            : entry.action.startsWith("person.")
              ? entry.target
              : null;
        const containerId =
          typeof entry.data.containerId === "string" ? entry.data.containerId : null;
        return {
          at: entry.at,
          source: "fleet",
          action: entry.action,
          personId,
          container:
            containerId === null
              ? null
              : containers.has(containerId)
                ? containerLabel(containerId)
                : containerId,
          lock: null,
          by: entry.actor,
        };
      });
    let rows = [...lockRows, ...adminRows].sort((a, b) => a.at.localeCompare(b.at));
    if (query.personId !== undefined) rows = rows.filter((r) => r.personId === query.personId);
    const names = this.repository.personNames(
      rows.flatMap((r) => [r.personId, r.by].filter((v): v is string => v !== null)),
    );
    return {
      table: {
        title: "Rights granted, changed and removed: fleet decisions and lock confirmations",
        columns: [
          { key: "at", label: "Time" },
          { key: "source", label: "Source" },
          { key: "action", label: "Action" },
          { key: "person", label: "Person" },
          { key: "container", label: "Container" },
          { key: "lock", label: "Lock" },
          { key: "by", label: "By" },
        ],
        rows: rows.map((r) => ({
          at: r.at,
          source: r.source,
          action: r.action,
          person: r.personId === null ? null : (names.get(r.personId) ?? r.personId),
          container: r.container,
          lock: r.lock,
          by: r.by === null ? null : (names.get(r.by) ?? r.by),
        })),
      },
      summaries: [
        countTable(
          "Changes per action",
          "Action",
          countBy(rows, (r) => r.action),
        ),
      ],
      notes: [],
    };
  }

  #hardwareEvents(query: ReportQuery, containerLabel: (id: string) => string) {
    const events = this.repository
      .audit(query, Object.keys(HARDWARE_EVENT_KINDS))
      .map((row) => ({ ...row, container: containerLabel(row.containerId) }))
      .sort(
        (a, b) =>
          a.container.localeCompare(b.container) ||
          a.deviceId.localeCompare(b.deviceId) ||
          a.seq - b.seq,
      );
    return {
      table: {
        title: "Power, hardware, self-test and time events recorded by the locks, per container",
        columns: [
          { key: "container", label: "Container" },
          { key: "lock", label: "Lock" },
          { key: "seq", label: "Record no." },
          { key: "at", label: "Lock time" },
          { key: "event", label: "Event" },
          { key: "description", label: "Description" },
          { key: "detail", label: "Detail" },
        ],
        rows: events.map((e) => ({
          container: e.container,
          lock: e.deviceId,
          seq: e.seq,
          at: e.at,
          event: e.kind,
          description: HARDWARE_EVENT_KINDS[e.kind] ?? e.kind,
          detail: hardwareDetail(e),
        })),
      },
      summaries: [
        countTable(
          "Events per kind",
          "Event",
          countBy(events, (e) => e.kind),
        ),
        countTable(
          "Events per container",
          "Container",
          countBy(events, (e) => e.container),
        ),
      ],
      notes:
        query.personId === undefined
          ? []
          : ["The locks record these events without a person: the person filter does not apply."],
    };
  }

  #tenantActivity(query: ReportQuery) {
    const entries = this.repository.adminLog(query);
    const names = this.repository.personNames(entries.map((e) => e.actor));
    const actorName = (actor: string) => names.get(actor) ?? actor;
    return {
      table: {
        title: "Actions in the fleet's admin log",
        columns: [
          { key: "seq", label: "No." },
          { key: "at", label: "Time" },
          { key: "orgId", label: "Organisation" },
          { key: "actor", label: "Actor" },
          { key: "action", label: "Action" },
          { key: "target", label: "Target" },
        ],
        rows: entries.map((e) => ({
          seq: e.seq,
          at: e.at,
          orgId: e.orgId,
          actor: actorName(e.actor),
          action: e.action,
          target: e.target,
        })),
      },
      summaries: [
        countTable(
          "Actions per kind",
          "Action",
          countBy(entries, (e) => e.action),
        ),
        countTable(
          "Actions per person",
          "Actor",
          countBy(entries, (e) => actorName(e.actor)),
        ),
      ],
      notes: [],
    };
  }
}
