/**
 * Each lock's update status in a rollout, from its own latest `update.*` audit record (never
 * from what the fleet sent); before any record, from whether and how the offer was answered.
 */
import type { UpdateProgressRow } from "./update-repository.js";

/** What each lock of a rollout shows, from its own audit records. */
export const LOCK_UPDATE_STATUSES = [
  "pending",
  "offered",
  "refused",
  "downloading",
  "verified",
  "installed",
  "switched",
  "healthy",
  "rolledBack",
] as const;
export type LockUpdateStatus = (typeof LOCK_UPDATE_STATUSES)[number];

export interface LockUpdateView {
  deviceId: string;
  status: LockUpdateStatus;
  at: string | null;
  code: string | null;
}

const STEP_STATUS: Readonly<Record<string, LockUpdateStatus>> = {
  "update.offered": "offered",
  "update.refused": "refused",
  "update.downloading": "downloading",
  "update.verified": "verified",
  "update.installed": "installed",
  "update.switched": "switched",
  "update.healthy": "healthy",
  "update.rolledBack": "rolledBack",
};

export function lockStatus(
  deviceId: string,
  progress: UpdateProgressRow | undefined,
  offeredAt: string | null,
  refusedCode: string | null,
): LockUpdateView {
  if (progress !== undefined) {
    const code = typeof progress.data.code === "string" ? progress.data.code : null;
    return { deviceId, status: STEP_STATUS[progress.kind] ?? "offered", at: progress.at, code };
  }
  if (offeredAt === null) return { deviceId, status: "pending", at: null, code: null };
  return {
    deviceId,
    status: refusedCode === null ? "offered" : "refused",
    at: offeredAt,
    code: refusedCode,
  };
}
