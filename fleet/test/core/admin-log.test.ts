import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminLog, adminLogEntryHash, GENESIS_HASH } from "../../src/admin-log.js";
import { openDatabase } from "../../src/storage/db.js";
import { createFixture, type Fixture } from "../fixtures.js";

describe("admin log chain", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lockfleet-adminlog-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = (name: string) => {
    const db = openDatabase(join(dir, `${name}.db`));
    const log = new AdminLog(db, () => Date.parse("2026-11-23T10:00:00Z"));
    for (let i = 0; i < 5; i++) {
      log.append({
        actor: "per_a",
        action: "test.act",
        target: `t${i}`,
        orgId: "org_x",
        data: { i },
      });
    }
    return { db, log };
  };

  it("links each entry to the previous one from the genesis hash and verifies", () => {
    const { db, log } = fresh("ok");
    const entries = log.list({}, {}).items;
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++)
      expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    for (const entry of entries) expect(adminLogEntryHash(entry)).toBe(entry.hash);
    expect(log.verify()).toEqual({ ok: true, entries: 5, headHash: entries[4]?.hash });
    db.close();
  });

  it("detects an entry changed after it was written", () => {
    const { db, log } = fresh("edit");
    db.prepare("UPDATE admin_log SET data = ? WHERE seq = 3").run('{"i":99}');
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 3, entries: 2 });
    db.close();
  });

  it("detects an edit that also recomputes the edited entry's own hash (the next link breaks)", () => {
    const { db, log } = fresh("rehash");
    const row = log.list({}, {}).items[2];
    if (row === undefined) throw new Error("no entry 3");
    const forged = { ...row, actor: "per_mallory" };
    db.prepare("UPDATE admin_log SET actor = ?, hash = ? WHERE seq = 3").run(
      forged.actor,
      adminLogEntryHash(forged),
    );
    const result = log.verify();
    expect(result).toMatchObject({ ok: false, brokenAt: 4 });
    expect(result.ok ? "" : result.reason).toMatch(/^E_ADMIN_LOG_LINK/);
    db.close();
  });

  it("detects a removed entry", () => {
    const { db, log } = fresh("remove");
    db.prepare("DELETE FROM admin_log WHERE seq = 2").run();
    const result = log.verify();
    expect(result).toMatchObject({ ok: false, brokenAt: 3 });
    expect(result.ok ? "" : result.reason).toMatch(/^E_ADMIN_LOG_GAP/);
    db.close();
  });
});

describe("every mutating route appends to the admin log", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  it("records who did what to which target, and the chain verifies over HTTP", async () => {
    const admin = f.as("securityAdmin");
    const before = f.app.adminLog.head().seq;
    const post = (url: string, payload: object, method: "POST" | "PATCH" = "POST") =>
      f.app.inject({ method, url: `/api/v1${url}`, headers: admin, payload });
    const region = (await post(`/orgs/${f.bank.id}/regions`, { name: "South" })).json();
    const branch = (
      await post("/branches", {
        name: "Süd",
        branchType: "cashCentre",
        timeZone: "Europe/Berlin",
        regionId: region.id,
      })
    ).json();
    await post(`/branches/${branch.id}`, { address: "Marktplatz 1" }, "PATCH");
    const container = (
      await post("/containers", {
        branchId: branch.id,
        name: "Deposit",
        type: "deposit",
        grade: "II",
        lockClass: "A",
      })
    ).json();
    await post(`/containers/${container.id}`, { grade: "III" }, "PATCH");
    const cit = (await post("/orgs", { kind: "cit", name: "CIT South" })).json();
    const contract = (
      await post("/contracts", {
        citOrgId: cit.id,
        name: "South route",
        containerIds: [container.id],
      })
    ).json();
    await post(`/contracts/${contract.id}`, { active: false }, "PATCH");
    const person = (await post("/people", { name: "Max" })).json();
    await post(`/people/${person.id}/identify`, { documentType: "passport" });
    const enable = await f.proposeAndApprove({
      method: "POST",
      url: `/api/v1/people/${person.id}/enable`,
      payload: {},
    });
    await f.proposeAndApprove({
      method: "POST",
      url: "/api/v1/users",
      payload: {
        personId: person.id,
        role: "branchManager",
        email: "max@example.test",
        branchIds: [branch.id],
      },
    });

    const entries = f.app.adminLog.list({}, { limit: 200 }).items.filter((e) => e.seq > before);
    const checker = f.accounts.secondOfficer.person.id;
    // power changes: proposed by the admin, carried out when the second officer approved
    expect(entries.filter((e) => e.actor === checker).map((e) => e.action)).toEqual([
      "person.enable",
      "proposal.approve",
      "user.create",
      "proposal.approve",
    ]);
    expect(entries.find((e) => e.action === "person.enable")?.data).toMatchObject({
      proposalId: enable.proposalId,
      proposedBy: f.accounts.securityAdmin.person.id,
    });
    const byAdmin = entries.filter((e) => e.actor !== checker);
    expect(byAdmin.map((e) => e.action)).toEqual([
      "region.create",
      "branch.create",
      "branch.update",
      "container.create",
      "container.update",
      "org.create",
      "contract.create",
      "contract.terminate",
      "person.create",
      "person.identify",
      "proposal.create",
      "proposal.create",
    ]);
    for (const entry of byAdmin) expect(entry.actor).toBe(f.accounts.securityAdmin.person.id);
    expect(entries[0]?.target).toBe(region.id);
    // a generated password never reaches the log
    expect(JSON.stringify(entries)).not.toMatch(/password/i);

    const verify = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log/verify",
      headers: f.as("auditor"),
    });
    expect(verify.json()).toMatchObject({ ok: true });
    f.app.db.prepare("UPDATE admin_log SET target = 'someone-else' WHERE seq = ?").run(before + 3);
    const tampered = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log/verify",
      headers: f.as("auditor"),
    });
    expect(tampered.json()).toMatchObject({ ok: false, brokenAt: before + 3 });
  });

  it("an auditor reads only their own organisation's entries", async () => {
    const mine = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log?limit=200",
      headers: f.as("auditor"),
    });
    const orgIds = new Set(mine.json().items.map((e: { orgId: string }) => e.orgId));
    expect([...orgIds]).toEqual([f.bank.id]);
    const other = await f.app.inject({
      method: "GET",
      url: "/api/v1/admin-log?limit=200",
      headers: f.as("bankBAdmin"),
    });
    expect(other.body).not.toContain(f.bank.id);
  });
});
