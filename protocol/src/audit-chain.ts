/**
 * The audit hash chain and its signed checkpoints (SPEC §3 "Audit log"); the edge writes it,
 * the fleet checks it on ingest, both with these functions.
 */
import { createHash } from "node:crypto";
import { canonicalJson, canonicalJsonString } from "./canonical-json.js";
import { fromBase64url, toBase64url } from "./crypto/bytes.js";
import { type Ed25519Backend, ed25519 } from "./crypto/ed25519.js";
import { type AuditRecord, type Checkpoint, GENESIS_HASH } from "./schemas/audit.js";

export type UnhashedAuditRecord = Omit<AuditRecord, "hash">;

export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/** hash = SHA-256 of the canonical JSON of the record without its `hash` field. */
export function auditRecordHash(record: UnhashedAuditRecord): string {
  return sha256Hex(hashedText(record));
}

/**
 * The canonical JSON of the hashed fields, written in their RFC 8785 order (actor, at, data,
 * deviceId, kind, prevHash, seq): the bytes `canonicalJson` gives for the object, without
 * building and sorting it again for every record of a batch the fleet checks. Anything
 * unusual (a missing field, a value with no canonical form) takes the general path, which
 * also names what is wrong.
 */
function hashedText(record: UnhashedAuditRecord): string {
  const { deviceId, seq, at, kind, actor, data, prevHash } = record;
  const general = () => canonicalJson({ deviceId, seq, at, kind, actor, data, prevHash });
  // Typed so by the schema; a record that is not (built by hand) takes the general path.
  if (
    typeof deviceId !== "string" ||
    typeof at !== "string" ||
    typeof kind !== "string" ||
    typeof prevHash !== "string" ||
    (actor !== null && typeof actor !== "string") ||
    !Number.isFinite(seq) ||
    data === undefined
  ) {
    return general();
  }
  const text = canonicalJsonString;
  try {
    return `{"actor":${actor === null ? "null" : text(actor)},"at":${text(at)},"data":${canonicalJson(data)},"deviceId":${text(deviceId)},"kind":${text(kind)},"prevHash":${text(prevHash)},"seq":${JSON.stringify(seq)}}`;
  } catch {
    return general();
  }
}

export function chainAuditRecord(
  record: Omit<UnhashedAuditRecord, "prevHash">,
  prevHash: string,
): AuditRecord {
  const linked = { ...record, prevHash };
  return { ...linked, hash: auditRecordHash(linked) };
}

export type ChainBreak =
  | { code: "E_CHAIN_HASH"; seq: number; message: string }
  | { code: "E_CHAIN_LINK"; seq: number; message: string }
  | { code: "E_CHAIN_GAP"; seq: number; message: string };

/**
 * Checks records (ascending seq) against the hash of the record before the first one
 * (GENESIS_HASH when the first is seq 1). Returns the first break, or undefined.
 */
export function verifyAuditChain(
  records: readonly AuditRecord[],
  previous: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): ChainBreak | undefined {
  let expectedSeq = previous.seq + 1;
  let expectedPrev = previous.hash;
  for (const record of records) {
    if (record.seq !== expectedSeq) {
      return {
        code: "E_CHAIN_GAP",
        seq: record.seq,
        message: `expected audit seq ${expectedSeq}, got ${record.seq}`,
      };
    }
    if (record.prevHash !== expectedPrev) {
      return {
        code: "E_CHAIN_LINK",
        seq: record.seq,
        message: `audit record ${record.seq} does not link to its predecessor`,
      };
    }
    if (auditRecordHash(record) !== record.hash) {
      return {
        code: "E_CHAIN_HASH",
        seq: record.seq,
        message: `audit record ${record.seq} does not match its hash`,
      };
    }
    expectedSeq += 1;
    expectedPrev = record.hash;
  }
  return undefined;
}

export const CHECKPOINT_PURPOSE = "lockfleet/audit-checkpoint/v1";

function checkpointMessage(checkpoint: Omit<Checkpoint, "signature">): Uint8Array {
  const { deviceId, seq, headHash, at, keyId } = checkpoint;
  return new TextEncoder().encode(
    canonicalJson({ purpose: CHECKPOINT_PURPOSE, deviceId, seq, headHash, at, keyId }),
  );
}

export function signCheckpoint(
  checkpoint: Omit<Checkpoint, "signature">,
  deviceSecretKey: Uint8Array,
  backend: Ed25519Backend = ed25519,
): Checkpoint {
  return {
    ...checkpoint,
    signature: toBase64url(backend.sign(checkpointMessage(checkpoint), deviceSecretKey)),
  };
}

export function verifyCheckpoint(
  checkpoint: Checkpoint,
  devicePublicKey: Uint8Array,
  backend: Ed25519Backend = ed25519,
): boolean {
  const { signature, ...signed } = checkpoint;
  let signatureBytes: Uint8Array;
  let message: Uint8Array;
  try {
    signatureBytes = fromBase64url(signature);
    message = checkpointMessage(signed);
  } catch {
    return false; // not base64url, or fields JSON cannot carry: nothing was signed
  }
  return backend.verify(message, signatureBytes, devicePublicKey);
}
