/**
 * The lock's persistent state, as named sections in the LockStore. Kept apart from the rules
 * so a reader sees at one glance everything that survives a restart.
 */
import type {
  AccessGrant,
  LockPolicy,
  LockUser,
  SealedSecret,
  TimeLockSchedule,
} from "@lockfleet/protocol";
import type { PenaltyState } from "./penalty.js";
import type { TimeSection } from "./trusted-time.js";

export interface StoredUser extends LockUser {
  /** Keyed hash of the person's code; never the code. */
  codeHash: string;
  /** Keyed hash of a separate duress code (duress mode "separateCode"). */
  duressCodeHash?: string;
  /** Initial codes (PIN letter, factory master) must be replaced at the keypad before use. */
  mustChangeCode: boolean;
}

export interface TimeLockSection {
  schedule: TimeLockSchedule;
  /** End of an immediate time lock or of a schedule-change hold, lock time. */
  immediateUntil?: number;
}

export interface RemoteSection {
  blocked: boolean;
  blockReason?: string;
  /** One authorisation for one cycle supplied by the fleet, valid until `expiresAt` (lock time). */
  centralRelease?: { commandId: string; approvedBy: string[]; expiresAt: number };
}

export interface StoredGrant {
  grant: AccessGrant;
  openings: number;
  revoked: boolean;
}

export interface OtpSection {
  /** The per-lock one-time-code secret, still sealed to this lock's X25519 key. */
  sealed: SealedSecret;
  /** Highest counter accepted so far; it never goes back. */
  highest: number;
  /** Counters accepted within the lookahead below `highest` (each is accepted once). */
  used: number[];
}

export interface TrustSection {
  /** Fleet signing keys by keyId, base64url. */
  fleetKeys: Record<string, string>;
  /** Highest envelope seq accepted from the fleet (replay protection). */
  highestSeq: number;
}

export interface Authorisation {
  personId: string;
  slot: number | null;
  party: "bank" | "cit";
  via: "code" | "grant" | "otp" | "centralRelease";
  duress: boolean;
  grantId?: string;
  otp?: { counter: number; notBefore: number; notAfter: number };
  /** A grant that lifts dual control for its holder. */
  single?: boolean;
}

/** The opening cycle; persisted so that a power loss restarts the delay instead of skipping it. */
export interface CycleSection {
  phase: "collecting" | "delay" | "window" | "released" | "open";
  /** 1 = first round of codes, 2 = confirmation round after the delay. */
  round: 1 | 2;
  authorisations: Authorisation[];
  /** Authorisations of round 1, kept for the close seal and the audit of the opening. */
  opening: Authorisation[];
  duress: boolean;
  openingNumber: number;
  /**
   * An opening (released or open) that a power loss cut off: it stays authorised after the
   * restart, so a door found open continues it instead of raising a forced-open alarm.
   */
  afterRestart?: true;
}

/**
 * Audit acknowledgements and gap requests received since the last audit record. Each one is
 * kept here (committed with the command, so it survives a restart) and goes into the chain as
 * one `audit.acknowledged` record with the next record the lock writes for any other reason:
 * an acknowledgement never creates a record of its own, which the fleet would acknowledge in
 * turn, and so on forever.
 */
export interface AckSection {
  /** Commands received (acks and gap requests) and their envelope ids, first and last. */
  commands: number;
  firstId: string;
  lastId: string;
  /** Their command seqs, lowest and highest. */
  firstSeq: number;
  lastSeq: number;
  /** Lock time of the first and the last. */
  since: number;
  at: number;
  /** Highest audit seq the fleet acknowledged among them. */
  upToSeq?: number;
  acks: number;
  gapRequests: number;
  /** The re-sent ranges (the first GAP_RANGES_KEPT of them). */
  ranges: Array<{ fromSeq: number; toSeq: number }>;
}

export const GAP_RANGES_KEPT = 20;

export interface SectionMap {
  policy: LockPolicy;
  users: Record<string, StoredUser>;
  penalty: PenaltyState;
  timeLock: TimeLockSection;
  remote: RemoteSection;
  grants: Record<string, StoredGrant>;
  otp: OtpSection;
  trust: TrustSection;
  time: TimeSection;
  cycle: CycleSection;
  openings: { counter: number };
  acks: AckSection;
}

export type SectionName = keyof SectionMap;

/** The sections as held in memory: these three exist only while there is something in them. */
export type OptionalSectionName = "otp" | "cycle" | "acks";
export type LockSections = Omit<SectionMap, OptionalSectionName> &
  Partial<Pick<SectionMap, OptionalSectionName>>;
