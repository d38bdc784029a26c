/**
 * The admin log cannot be quietly shortened or edited: signed checkpoints over its head, every
 * N entries and every M minutes, sent to the sinks too; verify (over HTTP and on a copy of the
 * database) finds a removed tail, an edited row and a re-hashed chain.
 */

import { copyFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { adminLogEntryHash } from "../../src/admin-log.js";
import { verifyAdminLog } from "../../src/cli.js";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function writeEntries(fx: Fixture, count: number) {
  for (let i = 0; i < count; i++) {
    await fx.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: fx.as("securityAdmin"),
      payload: { name: `Person ${i}` },
    });
  }
}

function copyDb(fx: Fixture, name: string): string {
  fx.app.db.pragma("wal_checkpoint(TRUNCATE)");
  const copy = join(fx.dataDir, `${name}.db`);
  copyFileSync(join(fx.dataDir, "fleet.db"), copy);
  return copy;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe("signed admin-log checkpoints", () => {
  it("a checkpoint is signed every N entries and after M minutes", async () => {
    f = await createFixture({ app: { adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 } } });
    const before = f.app.adminLogCheckpoints.latest()?.seq ?? 0;
    await writeEntries(f, 12);
    const latest = f.app.adminLogCheckpoints.latest();
    expect(latest?.seq).toBeGreaterThanOrEqual(before + 10);
    expect(latest?.headHash).toMatch(/^[0-9a-f]{64}$/);
    // fewer than N new entries: the timer signs them once M minutes passed
    await writeEntries(f, 1);
    const head = f.app.adminLog.head().seq;
    f.app.adminLogCheckpoints.tick();
    expect(f.app.adminLogCheckpoints.latest()?.seq).toBeLessThan(head);
    f.clock.advance(61_000);
    f.app.adminLogCheckpoints.tick();
    expect(f.app.adminLogCheckpoints.latest()?.seq).toBe(head);
  });

  it("verify finds the last 20 rows removed from a copy of the database", async () => {
    f = await createFixture({ app: { adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 } } });
    await writeEntries(f, 30);
    const copy = copyDb(f, "shortened");
    const db = new Database(copy);
    const head = db.prepare("SELECT max(seq) FROM admin_log").pluck().get() as number;
    db.prepare("DELETE FROM admin_log WHERE seq > ?").run(head - 20);
    // the attacker also drops the checkpoints that mention the removed rows
    db.prepare("DELETE FROM admin_log_checkpoints WHERE seq > ?").run(head - 20);
    db.close();
    const c = capture();
    expect(verifyAdminLog(["--data-dir", f.dataDir, "--db", copy], c.output)).toBe(false);
    expect(c.err[0]).toMatch(/^E_ADMIN_LOG_TRUNCATED/);
    // the untouched database verifies
    const ok = capture();
    expect(verifyAdminLog(["--data-dir", f.dataDir], ok.output)).toBe(true);
  });

  it("verify finds a row edited and the whole chain re-hashed after it", async () => {
    f = await createFixture({ app: { adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 } } });
    await writeEntries(f, 12);
    const copy = copyDb(f, "rehashed");
    const db = new Database(copy);
    const rows = db.prepare("SELECT * FROM admin_log ORDER BY seq").all() as Array<
      Record<string, unknown>
    >;
    let prevHash = "0".repeat(64);
    for (const row of rows) {
      const entry = {
        seq: row.seq as number,
        at: row.at as string,
        orgId: row.org_id as string | null,
        actor: row.actor as string,
        action: row.action as string,
        target: (row.seq as number) === 3 ? "someone-else" : (row.target as string | null),
        data: JSON.parse(row.data as string) as Record<string, unknown>,
        prevHash,
      };
      const hash = adminLogEntryHash(entry);
      db.prepare("UPDATE admin_log SET target = ?, prev_hash = ?, hash = ? WHERE seq = ?").run(
        entry.target,
        prevHash,
        hash,
        entry.seq,
      );
      prevHash = hash;
    }
    db.close();
    const c = capture();
    expect(verifyAdminLog(["--data-dir", f.dataDir, "--db", copy], c.output)).toBe(false);
    expect(c.err[0]).toMatch(/^E_ADMIN_LOG_CHECKPOINT_MISMATCH/);
  });

  it("an edited row without re-hashing is found by the chain; over HTTP too", async () => {
    f = await createFixture({ app: { adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 } } });
    await writeEntries(f, 6);
    f.app.db.prepare("UPDATE admin_log SET actor = 'nobody' WHERE seq = 2").run();
    const verify = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log/verify",
      headers: f.as("auditor"),
    });
    expect(verify.json()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it("a checkpoint forged with another key is refused", async () => {
    f = await createFixture({ app: { adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 } } });
    await writeEntries(f, 6);
    f.app.db.prepare("UPDATE admin_log_checkpoints SET signature = ?").run("A".repeat(86));
    const result = f.app.adminLogCheckpoints.verify();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^E_ADMIN_LOG_CHECKPOINT_SIGNATURE/);
  });

  it("each checkpoint is sent to the webhook sink as well, and the key file is 0600", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        received.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      f = await createFixture({
        app: {
          adminLogCheckpoints: { everyEntries: 5, everyMs: 60_000 },
          alarms: { webhook: { url: `http://127.0.0.1:${port}/hook` } },
        },
      });
      await writeEntries(f, 6);
      await f.app.adminLogCheckpoints.settled();
      const checkpoints = received
        .map((body) => JSON.parse(body))
        .filter((b) => b.event === "adminLog.checkpoint");
      expect(checkpoints.length).toBeGreaterThan(0);
      expect(checkpoints.at(-1).checkpoint).toMatchObject({
        seq: f.app.adminLogCheckpoints.latest()?.seq,
        signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
      });
      expect(statSync(join(f.dataDir, "admin-log-key.json")).mode & 0o777).toBe(0o600);
    } finally {
      await f?.close();
      f = undefined;
      server.close();
    }
  });
});
