/**
 * Signed checkpoints over the admin log's head (SPEC §5): at least every N entries and every M
 * minutes the fleet signs `{seq, headHash, at, keyId}` with its dedicated admin-log key (Ed25519,
 * the private half sealed under the key-encryption key like the fleet's other keys, in
 * `<dataDir>/admin-log-key.json`), stores the checkpoint, writes the latest one next to the key
 * (outside the database) and sends each to the syslog and webhook sinks. `verify()` then finds
 * what the hash chain alone cannot: a removed tail, and a row edited with every later hash
 * recomputed — the chain no longer ends in, or passes through, the signed heads.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CodedError,
  canonicalJson,
  ed25519,
  fromBase64url,
  toBase64url,
} from "@lockfleet/protocol";
import type { Database } from "better-sqlite3";
import type { AdminLog, AdminLogVerification } from "./admin-log.js";
import { escapeParamValue, priValue, type SyslogForwarder } from "./alarms/forwarding/syslog.js";
import type { WebhookForwarder } from "./alarms/forwarding/webhook.js";
import { newId } from "./ids.js";
import type { SecretBox } from "./secrets.js";

export interface AdminLogCheckpoint {
  seq: number;
  headHash: string;
  at: string;
  keyId: string;
  publicKey: string;
  signature: string;
}

export interface CheckpointKey {
  keyId: string;
  publicKey: string;
  secretKey: Uint8Array;
}

export interface CheckpointPolicy {
  everyEntries: number;
  everyMs: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointPolicy = { everyEntries: 100, everyMs: 15 * 60_000 };

const KEY_FILE = "admin-log-key.json";
const LATEST_FILE = "admin-log-checkpoint.json";
const SEAL_PURPOSE = "admin-log-key";

/** The bytes a checkpoint's signature covers. */
export function checkpointBytes(c: Pick<AdminLogCheckpoint, "seq" | "headHash" | "at" | "keyId">) {
  return new TextEncoder().encode(
    canonicalJson({
      type: "lockfleet.adminLog.checkpoint",
      seq: c.seq,
      headHash: c.headHash,
      at: c.at,
      keyId: c.keyId,
    }),
  );
}

/** The admin-log key: created once (0600), its seed sealed under the key-encryption key. */
export function loadOrCreateCheckpointKey(dataDir: string, secrets: SecretBox): CheckpointKey {
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, "utf8")) as {
      keyId: string;
      publicKey: string;
      sealedSeed: string;
    };
    const seed = secrets.open(stored.sealedSeed, SEAL_PURPOSE);
    const pair = ed25519.keyPairFromSeed(seed);
    seed.fill(0);
    if (toBase64url(pair.publicKey) !== stored.publicKey) {
      throw new CodedError("E_KEY_FILE", `${path} holds a public key that is not its seed's`);
    }
    return { keyId: stored.keyId, publicKey: stored.publicKey, secretKey: pair.secretKey };
  }
  const pair = ed25519.generateKeyPair();
  const keyId = newId("alk");
  const publicKey = toBase64url(pair.publicKey);
  const sealedSeed = secrets.seal(pair.secretKey.subarray(0, 32), SEAL_PURPOSE);
  writeFileSync(path, `${JSON.stringify({ keyId, publicKey, sealedSeed }, null, 2)}\n`, {
    mode: 0o600,
    flag: "wx",
  });
  return { keyId, publicKey, secretKey: pair.secretKey };
}

/** The trusted public key for verifying a database copy (from the key file, never the copy). */
export function readCheckpointPublicKey(dataDir: string): { keyId: string; publicKey: string } {
  const stored = JSON.parse(readFileSync(join(dataDir, KEY_FILE), "utf8")) as {
    keyId: string;
    publicKey: string;
  };
  return { keyId: stored.keyId, publicKey: stored.publicKey };
}

export function readLatestCheckpoint(dataDir: string): AdminLogCheckpoint | undefined {
  const path = join(dataDir, LATEST_FILE);
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, "utf8")) as AdminLogCheckpoint)
    : undefined;
}

export interface CheckpointSinks {
  webhook?: WebhookForwarder | undefined;
  syslog?: SyslogForwarder | undefined;
}

/** One RFC 5424 message carrying the checkpoint in structured data. */
export function checkpointSyslogMessage(
  checkpoint: AdminLogCheckpoint,
  header: { facility: number; hostname?: string; appName?: string },
): string {
  const params = [
    ["seq", String(checkpoint.seq)],
    ["headHash", checkpoint.headHash],
    ["at", checkpoint.at],
    ["keyId", checkpoint.keyId],
    ["signature", checkpoint.signature],
  ];
  const sd = `[lockfleet-adminlog@32473 ${params.map(([n, v]) => `${n}="${escapeParamValue(v ?? "")}"`).join(" ")}]`;
  return [
    `<${priValue(header.facility, 5)}>1`,
    checkpoint.at,
    header.hostname ?? "-",
    header.appName ?? "lockfleet",
    String(process.pid),
    "adminLogCheckpoint",
    sd,
    `\uFEFFadmin log checkpoint at entry ${checkpoint.seq}`,
  ].join(" ");
}

export class AdminLogCheckpoints {
  #lastSeq: number;
  #lastAt: number;
  #sending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly log: AdminLog,
    private readonly key: CheckpointKey,
    private readonly dataDir: string,
    private readonly policy: CheckpointPolicy,
    private readonly clock: () => number,
    private readonly sinks: CheckpointSinks,
    private readonly onSinkError: (error: unknown) => void,
  ) {
    const last = this.latest();
    this.#lastSeq = last?.seq ?? 0;
    this.#lastAt = last === undefined ? clock() : Date.parse(last.at);
  }

  /** After every append: a checkpoint when N entries passed since the last one. */
  afterAppend(seq: number): void {
    if (seq - this.#lastSeq >= this.policy.everyEntries) this.create();
  }

  /** On the timer: a checkpoint when M minutes passed and entries were added. */
  tick(): void {
    const head = this.log.head();
    if (head.seq > this.#lastSeq && this.clock() - this.#lastAt >= this.policy.everyMs) {
      this.create();
    }
  }

  /** Signs the head now (nothing when the head is already checkpointed). */
  create(): AdminLogCheckpoint | undefined {
    const head = this.log.head();
    if (head.seq === 0 || head.seq === this.#lastSeq) return undefined;
    const at = new Date(this.clock()).toISOString();
    const unsigned = { seq: head.seq, headHash: head.hash, at, keyId: this.key.keyId };
    const checkpoint: AdminLogCheckpoint = {
      ...unsigned,
      publicKey: this.key.publicKey,
      signature: toBase64url(ed25519.sign(checkpointBytes(unsigned), this.key.secretKey)),
    };
    this.db
      .prepare(
        `INSERT OR IGNORE INTO admin_log_checkpoints (seq, head_hash, at, key_id, public_key, signature)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        checkpoint.seq,
        checkpoint.headHash,
        at,
        checkpoint.keyId,
        checkpoint.publicKey,
        checkpoint.signature,
      );
    writeFileSync(join(this.dataDir, LATEST_FILE), `${JSON.stringify(checkpoint)}\n`, {
      mode: 0o600,
    });
    this.#lastSeq = checkpoint.seq;
    this.#lastAt = this.clock();
    this.#send(checkpoint);
    return checkpoint;
  }

  #send(checkpoint: AdminLogCheckpoint): void {
    const sends: Array<Promise<void>> = [];
    const { webhook, syslog } = this.sinks;
    if (webhook !== undefined) {
      sends.push(webhook.postJson(JSON.stringify({ event: "adminLog.checkpoint", checkpoint })));
    }
    if (syslog !== undefined) {
      sends.push(syslog.sendMessage(checkpointSyslogMessage(checkpoint, syslog.header)));
    }
    const all = Promise.all(sends.map((send) => send.catch((error) => this.onSinkError(error))));
    this.#sending = this.#sending.then(() => all);
  }

  /** Resolves when every checkpoint sent so far reached its sinks or failed (tests, shutdown). */
  settled(): Promise<unknown> {
    return this.#sending;
  }

  latest(): AdminLogCheckpoint | undefined {
    return listCheckpoints(this.db).at(-1);
  }

  verify(): AdminLogVerification {
    return verifyWithCheckpoints(this.db, this.log, this.key, readLatestCheckpoint(this.dataDir));
  }

  async close(): Promise<void> {
    await this.sinks.webhook?.close();
    await this.sinks.syslog?.close();
  }
}

export function listCheckpoints(db: Database): AdminLogCheckpoint[] {
  return (
    db.prepare("SELECT * FROM admin_log_checkpoints ORDER BY seq").all() as Array<{
      seq: number;
      head_hash: string;
      at: string;
      key_id: string;
      public_key: string;
      signature: string;
    }>
  ).map((row) => ({
    seq: row.seq,
    headHash: row.head_hash,
    at: row.at,
    keyId: row.key_id,
    publicKey: row.public_key,
    signature: row.signature,
  }));
}

/**
 * The chain walk, then every stored checkpoint and the latest one kept outside the database:
 * each must carry a valid signature by the trusted key, and the chain must pass through its
 * head at its sequence number.
 */
export function verifyWithCheckpoints(
  db: Database,
  log: AdminLog,
  trusted: Pick<CheckpointKey, "keyId" | "publicKey">,
  latestOutside: AdminLogCheckpoint | undefined,
): AdminLogVerification {
  const chain = log.verify();
  if (!chain.ok) return chain;
  const checkpoints = listCheckpoints(db);
  if (latestOutside !== undefined && !checkpoints.some((c) => c.seq >= latestOutside.seq)) {
    checkpoints.push(latestOutside);
  }
  const hashAt = db.prepare("SELECT hash FROM admin_log WHERE seq = ?").pluck();
  const publicKey = fromBase64url(trusted.publicKey);
  for (const checkpoint of checkpoints) {
    const broken = (reason: string): AdminLogVerification => ({
      ok: false,
      entries: chain.entries,
      brokenAt: Math.min(checkpoint.seq, chain.entries + 1),
      reason,
    });
    const signed =
      checkpoint.keyId === trusted.keyId &&
      ed25519.verify(checkpointBytes(checkpoint), fromBase64url(checkpoint.signature), publicKey);
    if (!signed) {
      return broken(
        `E_ADMIN_LOG_CHECKPOINT_SIGNATURE: the checkpoint at entry ${checkpoint.seq} is not signed by the fleet's admin-log key`,
      );
    }
    if (checkpoint.seq > chain.entries) {
      return broken(
        `E_ADMIN_LOG_TRUNCATED: a signed checkpoint covers ${checkpoint.seq} entries, the log holds ${chain.entries}: its tail was removed`,
      );
    }
    if (hashAt.get(checkpoint.seq) !== checkpoint.headHash) {
      return broken(
        `E_ADMIN_LOG_CHECKPOINT_MISMATCH: entry ${checkpoint.seq} is not the one the signed checkpoint covers: entries up to it were changed and the chain re-hashed`,
      );
    }
  }
  return chain;
}
