/**
 * Types the dashboard's plain ES modules check against (`// @ts-check`, fleet/tsconfig.dashboard.json).
 * Lock and audit shapes come from the protocol schemas, API shapes from the fleet's own route
 * schemas and records; nothing here reaches the browser (declarations are never served).
 */
import type {
  AlarmKind,
  AuditRecord,
  LockPolicy,
  LockState,
  UserRole,
  WeeklyPeriod,
} from "@lockfleet/protocol";
import type { FleetAlarm as BareAlarm } from "../alarms/alarm.js";
import type { Role } from "../auth/principal.js";

// The route modules' TypeBox views are not imported: they pull in the whole fastify app's
// declarations. These mirror ContainerView, BranchView, ContractView, PersonView, DeviceView
// and WindowView.
export type { AlarmKind, AuditRecord, LockPolicy, LockState, Role, UserRole };
/** An alarm as GET /alarms answers it: with the names the reader may see. */
export type FleetAlarm = BareAlarm & { actorName?: string; acknowledgedByName?: string };
export interface Window {
  id: string;
  containerId: string;
  crew: string[];
  /** The crew's names, in the order of `crew`. */
  crewNames: string[];
  notBefore: string;
  notAfter: string;
  purpose: string;
  status: "requested" | "approved" | "rejected" | "active" | "closed" | "revoked" | "expired";
  autoApproved: boolean;
  approvalsRequired: number;
  approvedBy: string[];
  requestedBy: string;
  requestedAt: string;
  openings: number;
  closedAt: string | null;
  revokedAt: string | null;
}

export interface Container {
  id: string;
  orgId: string;
  branchId: string;
  name: string;
  type: string;
  grade: string;
  lockClass: string;
  policy: LockPolicy;
  createdAt: string;
}

export interface Branch {
  id: string;
  orgId: string;
  regionId?: string | null;
  name: string;
  address?: string;
  timeZone: string;
  branchType?: string;
}

export interface Contract {
  id: string;
  bankOrgId: string;
  citOrgId: string;
  name: string;
  containerIds: string[];
  standingWindows: Array<{ startDay: number; startTime: string; endDay: number; endTime: string }>;
  validFrom?: string;
  validUntil?: string;
  active: boolean;
}

export interface Person {
  id: string;
  orgId: string;
  name: string;
  status: string;
  identifiedAt?: string;
  documentType?: string;
  enabledAt?: string;
  validFrom?: string;
  validUntil?: string;
}

export interface Device {
  deviceId: string;
  containerId?: string;
  hardwareProfile?: string;
  firmware?: string;
  enrolledAt?: string;
  availability?: "unknown" | "online" | "offline";
  availabilityAt?: string | null;
  /** The broker's last will, not confirmed by the lock's silence: a hint, not evidence. */
  availabilityHint?: { status: "offline"; at: string } | null;
  /** The lock's clock against the fleet's, as last measured (ms; positive = fast). */
  clockDriftMs?: number | null;
  state?: LockState | null;
  /** Lock time of the newest audit record that changed the lock's state. */
  stateSince?: string | null;
}

export type { WeeklyPeriod };

export interface Me {
  principal: {
    userId: string;
    personId: string;
    orgId: string;
    orgKind: "bank" | "cit";
    role: Role;
    via: "session" | "token";
  };
  personName: string;
  orgName: string;
  /** Bank accounts: false while the bank has fewer than two independent security officers. */
  dualControl?: boolean;
}

export interface PolicyChange {
  id: string;
  containerId: string;
  kind: "policy" | "timeLocks" | "holidays";
  proposed: Record<string, unknown> | null;
  weakening: boolean;
  weakened: string[];
  approvalsRequired: number;
  approvedBy: string[];
  status: string;
  reason: string | null;
  requestedBy: string;
  requestedAt: string;
  locks: Array<{ deviceId: string; status: "sent" | "ok" | "error" }>;
}

export interface Right {
  id: string;
  personId: string;
  containerId: string;
  role: UserRole;
  validFrom: string | null;
  validUntil: string | null;
  removedAt: string | null;
  removedReason: string | null;
  locks: Array<{ deviceId: string; slot: number; status: string; confirmedAt: string | null }>;
}

export interface WindowNotice {
  id: string;
  kind: string;
  windowId: string | null;
  message: string;
  createdAt: string;
}

export interface AdminLogEntry {
  seq: number;
  at: string;
  actor: string;
  /** The acting person's name, where the reader's bank knows them. */
  actorName?: string;
  action: string;
  target: string | null;
  data: Record<string, unknown>;
}

export interface ReportTable {
  title: string;
  columns: Array<{ key: string; label: string }>;
  rows: Array<Record<string, string | number | null>>;
}

export interface Report {
  orgName: string;
  from: string;
  to: string;
  generatedAt: string;
  summaries: ReportTable[];
  table: ReportTable;
  notes: string[];
}

/** One item of a paginated list answer. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}
