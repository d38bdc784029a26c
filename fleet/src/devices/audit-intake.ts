/**
 * Audit intake: each lock's signed audit records and checkpoints are checked against the
 * stored chain (audit-ingest.ts plans it), stored durably, acknowledged, and a gap is asked
 * for again; conflicts, breaks and mismatches raise tamper alarms.
 */
import { type AuditRecord, type Checkpoint, formatInstant } from "@lockfleet/protocol";
import { AuditGroupCommit } from "./audit-group-commit.js";
import {
  type AuditHead,
  type AuditIngestPlan,
  judgeCheckpoint,
  planAuditIngest,
} from "./audit-ingest.js";
import type { CommandDispatch } from "./command-dispatch.js";
import type { HubContext } from "./hub-context.js";
import type { LiveDevice } from "./live-device.js";

const GAP_RETRY_MS = 10_000;

export class AuditIntake {
  readonly #ctx: HubContext;
  readonly #dispatch: CommandDispatch;
  readonly #group: AuditGroupCommit;

  constructor(ctx: HubContext, dispatch: CommandDispatch) {
    this.#ctx = ctx;
    this.#dispatch = dispatch;
    this.#group = new AuditGroupCommit({
      repository: ctx.repository,
      windowMs: ctx.settings.auditGroupCommitMs,
      receivedAt: () => formatInstant(ctx.clock()),
      onError: (error, deviceId) => {
        if (ctx.closed && !ctx.store.open) return;
        ctx.log.error(
          { err: error, deviceId },
          "E_AUDIT_WRITE: audit records not stored, not acked",
        );
        ctx.events.emit("writeFailed", error);
      },
    });
  }

  #storedHash(deviceId: string): (seq: number) => string | undefined {
    return (seq) => this.#ctx.repository.auditHash(deviceId, seq);
  }

  /**
   * Verifies a batch against the lock's chain (stored, or queued for the next group commit)
   * and queues what extends it; the ack, the event, alarms and gap requests follow the commit.
   */
  ingestAudit(device: LiveDevice, records: AuditRecord[], topic: string): void {
    const deviceId = device.deviceId;
    const head = this.#group.head(deviceId);
    const plan = planAuditIngest(head, records, (seq) => this.#group.hash(deviceId, seq));
    this.#group.add(deviceId, plan.store, (stored) =>
      this.#afterCommit(device, head, plan, stored, topic),
    );
  }

  /** Stores every queued batch now (before a read that must see them, or at shutdown). */
  commit(): void {
    this.#group.commit();
  }

  #afterCommit(
    device: LiveDevice,
    head: AuditHead,
    plan: AuditIngestPlan,
    stored: boolean,
    topic: string,
  ): void {
    for (const conflict of plan.conflicts) {
      this.#ctx.reject(device, "audit.conflict", `E_AUDIT_CONFLICT: ${conflict.message}`, {
        topic,
      });
    }
    if (plan.conflicts.length > 0) {
      this.#ctx.raiseFleetAlarm(device, "tamper", {
        reason: "E_AUDIT_CONFLICT",
        seqs: plan.conflicts.map((conflict) => conflict.seq).slice(0, 20),
      });
    }
    if (plan.chainBreak !== undefined) {
      this.#ctx.reject(
        device,
        "audit.chainBreak",
        `${plan.chainBreak.code}: ${plan.chainBreak.message}`,
        {
          topic,
        },
      );
      this.#ctx.raiseFleetAlarm(device, "tamper", {
        reason: plan.chainBreak.code,
        seq: plan.chainBreak.seq,
      });
    }
    // Not durable: no ack, no event. The lock sends again what it has no ack for.
    if (!stored) return;
    let newHead: AuditHead = head;
    if (plan.store.length > 0) {
      const last = plan.store[plan.store.length - 1] as AuditRecord;
      newHead = { seq: last.seq, hash: last.hash };
      this.#settleCheckpoints(device, newHead);
      this.#ctx.emit("audit", device.deviceId, plan.store);
    }
    if (plan.missing !== undefined) {
      this.#requestGap(device, plan.missing.fromSeq, plan.missing.toSeq);
    } else {
      device.gapOpen = false;
    }
    // A lock logs each acknowledgement it receives; acking a batch of nothing but those would
    // make the two sides ping-pong forever, so such a batch waits for the next real record.
    const news = plan.store.some((record) => record.kind !== "audit.acknowledged");
    const resent = plan.store.length === 0 && plan.duplicates > 0 && plan.missing === undefined;
    if ((news || resent) && newHead.seq > 0) {
      // synchronous=FULL and the group has committed: these records survive a power cut.
      this.#dispatch.sendQuietly(device.deviceId, "audit.ack", {
        upToSeq: newHead.seq,
        headHash: newHead.hash,
      });
    }
  }

  #settleCheckpoints(device: LiveDevice, head: AuditHead): void {
    for (const pending of this.#ctx.repository.pendingCheckpoints(device.deviceId, head.seq)) {
      const stored = this.#ctx.repository.auditHash(device.deviceId, pending.seq);
      const status = stored === pending.head_hash ? "matched" : "mismatch";
      this.#ctx.repository.setCheckpointStatus(device.deviceId, pending.seq, status);
      if (status === "mismatch") {
        const reason = `E_CHECKPOINT_MISMATCH: checkpoint at seq ${pending.seq} does not match the stored chain`;
        this.#ctx.reject(device, "audit.checkpointMismatch", reason);
        this.#ctx.raiseFleetAlarm(device, "tamper", {
          reason: "E_CHECKPOINT_MISMATCH",
          seq: pending.seq,
        });
      }
    }
  }

  ingestCheckpoint(device: LiveDevice, checkpoint: Checkpoint, topic: string): void {
    const verified = this.#ctx.repository.highestMatchedCheckpoint(device.deviceId);
    if (checkpoint.seq < verified) {
      this.#ctx.reject(
        device,
        "audit.checkpointRegression",
        `E_AUDIT_REGRESSION: checkpoint at seq ${checkpoint.seq} is older than the one verified at seq ${verified}`,
        { topic },
      );
      this.#ctx.raiseFleetAlarm(device, "auditRegression", {
        checkpointSeq: checkpoint.seq,
        verifiedSeq: verified,
      });
      return;
    }
    const head = this.#ctx.repository.auditHead(device.deviceId);
    const verdict = judgeCheckpoint(
      device.deviceId,
      checkpoint,
      device.signingPublicKey,
      head,
      this.#storedHash(device.deviceId),
    );
    if (verdict.status === "refused") {
      this.#ctx.refuseMessage(device, topic, verdict.code, verdict.message);
      return;
    }
    this.#ctx.repository.upsertCheckpoint({
      device_id: device.deviceId,
      seq: checkpoint.seq,
      head_hash: checkpoint.headHash,
      at: checkpoint.at,
      key_id: checkpoint.keyId,
      signature: checkpoint.signature,
      received_at: formatInstant(this.#ctx.clock()),
      status: verdict.status,
    });
    if (verdict.status === "mismatch") {
      this.#ctx.reject(
        device,
        "audit.checkpointMismatch",
        `E_CHECKPOINT_MISMATCH: ${verdict.message}`,
        {
          topic,
        },
      );
      this.#ctx.raiseFleetAlarm(device, "tamper", {
        reason: "E_CHECKPOINT_MISMATCH",
        seq: checkpoint.seq,
      });
    } else if (verdict.status === "pending") {
      this.scheduleHeadCheck(device, checkpoint.seq);
    }
  }

  /**
   * The lock says its chain reaches `seq`; if the stored chain is still behind a moment later
   * (records are usually just behind the state), the missing range is requested.
   */
  scheduleHeadCheck(device: LiveDevice, seq: number): void {
    if (seq <= this.#ctx.repository.auditHead(device.deviceId).seq) return;
    if (device.headCheckTimer !== undefined) return;
    device.headCheckTimer = setTimeout(() => {
      device.headCheckTimer = undefined;
      if (this.#ctx.closed) return;
      const head = this.#ctx.repository.auditHead(device.deviceId);
      const claimed = Math.max(seq, device.state?.auditHead.seq ?? 0);
      // Only a request: the lock may simply be resending after a reconnect. A record that
      // arrives beyond a hole (see #ingestAudit) is what raises the auditGap alarm.
      if (claimed > head.seq) this.#requestGap(device, head.seq + 1, claimed, false);
    }, this.#ctx.settings.auditHeadCheckMs);
    device.headCheckTimer.unref();
  }

  #requestGap(device: LiveDevice, fromSeq: number, toSeq: number, alarm = true): void {
    const now = this.#ctx.clock();
    const key = `${fromSeq}-${toSeq}`;
    const last = device.lastGapRequest;
    if (last !== undefined && last.key === key && now - last.at < GAP_RETRY_MS) return;
    device.lastGapRequest = { key, at: now };
    if (alarm && !device.gapOpen) {
      device.gapOpen = true;
      this.#ctx.raiseFleetAlarm(device, "auditGap", { fromSeq, toSeq });
    }
    this.#dispatch.sendQuietly(device.deviceId, "audit.gapRequest", { fromSeq, toSeq });
  }
}
