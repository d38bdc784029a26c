/**
 * Read-only SQL over what other parts recorded, for the risk register's measurements: access
 * windows, their openings and refused close seals (windows part), the verified lock audit
 * (devices part) and the provider's people (core). No part offers these as a service query
 * yet; every query here is bounded by one contract or its containers.
 */
import { auditDataOf } from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import { parseJsonColumn } from "../storage/pagination.js";

export interface MeasuredWindow {
  id: string;
  containerId: string;
  status: string;
  notBefore: string;
  notAfter: string;
  closedAt: string | null;
  revokedAt: string | null;
}

export interface MeasuredOpening {
  id: number;
  windowId: string;
  deviceId: string;
  auditSeq: number;
  at: string;
  sealStatus: "open" | "verified" | "refused";
  sealedAt: string | null;
}

export interface MeasuredSealRefusal {
  id: number;
  windowId: string | null;
  deviceId: string | null;
  source: string;
  at: string;
}

export interface MeasuredAuditRecord {
  deviceId: string;
  containerId: string;
  seq: number;
  at: string;
  kind: string;
  actor: string | null;
  persons: string[];
}

/** Windows the bank decided on: the ones that allowed (or would have allowed) access. */
const DECIDED = "('approved', 'active', 'closed', 'revoked', 'expired')";

export class RiskEvidenceRepository {
  constructor(private readonly db: Database) {}

  /** Every decided window of the contract, whatever its period (coverage of openings). */
  windows(contractId: string): MeasuredWindow[] {
    const rows = this.db
      .prepare(
        `SELECT id, container_id, status, not_before, not_after, closed_at, revoked_at
         FROM access_windows
         WHERE contract_id = ? AND decided_at IS NOT NULL AND status IN ${DECIDED}
         ORDER BY not_before, id`,
      )
      .all(contractId) as Array<{
      id: string;
      container_id: string;
      status: string;
      not_before: string;
      not_after: string;
      closed_at: string | null;
      revoked_at: string | null;
    }>;
    return rows.map((row) => ({
      id: row.id,
      containerId: row.container_id,
      status: row.status,
      notBefore: row.not_before,
      notAfter: row.not_after,
      closedAt: row.closed_at,
      revokedAt: row.revoked_at,
    }));
  }

  openings(windowIds: readonly string[]): MeasuredOpening[] {
    if (windowIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT id, window_id, device_id, audit_seq, at, seal_status, sealed_at
         FROM access_window_openings WHERE window_id IN (SELECT value FROM json_each(?))
         ORDER BY at, id`,
      )
      .all(JSON.stringify(windowIds)) as Array<{
      id: number;
      window_id: string;
      device_id: string;
      audit_seq: number;
      at: string;
      seal_status: MeasuredOpening["sealStatus"];
      sealed_at: string | null;
    }>;
    return rows.map((row) => ({
      id: row.id,
      windowId: row.window_id,
      deviceId: row.device_id,
      auditSeq: row.audit_seq,
      at: row.at,
      sealStatus: row.seal_status,
      sealedAt: row.sealed_at,
    }));
  }

  sealRefusals(windowIds: readonly string[]): MeasuredSealRefusal[] {
    if (windowIds.length === 0) return [];
    return this.db
      .prepare(
        `SELECT id, window_id AS windowId, device_id AS deviceId, source, at
         FROM access_window_seal_refusals WHERE window_id IN (SELECT value FROM json_each(?))
         ORDER BY at, id`,
      )
      .all(JSON.stringify(windowIds)) as MeasuredSealRefusal[];
  }

  /** People of the provider (its crews and dispatchers), deleted ones included. */
  providerPeople(citOrgId: string): Set<string> {
    const ids = this.db
      .prepare("SELECT id FROM people WHERE org_id = ?")
      .pluck()
      .all(citOrgId) as string[];
    return new Set(ids);
  }

  /** Verified audit records of the given kinds on the locks of the containers, in [from, to). */
  audit(
    containerIds: readonly string[],
    kinds: readonly string[],
    from: string,
    to: string,
  ): MeasuredAuditRecord[] {
    if (containerIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT a.device_id, d.container_id, a.seq, a.at, a.kind, a.actor, a.record
         FROM device_audit a JOIN devices d ON d.device_id = a.device_id
         WHERE d.container_id IN (SELECT value FROM json_each(@containers))
           AND a.kind IN (SELECT value FROM json_each(@kinds))
           AND a.at >= @from AND a.at < @to
         ORDER BY a.at, a.device_id, a.seq`,
      )
      .all({
        containers: JSON.stringify(containerIds),
        kinds: JSON.stringify(kinds),
        from,
        to,
      }) as Array<{
      device_id: string;
      container_id: string;
      seq: number;
      at: string;
      kind: string;
      actor: string | null;
      record: string;
    }>;
    return rows.map((row) => {
      const { data } = parseJsonColumn<{ data?: unknown }>(row.record, {});
      // An opening names its persons; any other record, the person who acted.
      const confirmed = auditDataOf({ kind: row.kind, seq: row.seq, data }, "cycle.confirmed");
      const listed = confirmed.ok ? confirmed.value.persons : [];
      const persons = listed.length > 0 ? listed : row.actor === null ? [] : [row.actor];
      return {
        deviceId: row.device_id,
        containerId: row.container_id,
        seq: row.seq,
        at: row.at,
        kind: row.kind,
        actor: row.actor,
        persons,
      };
    });
  }
}
