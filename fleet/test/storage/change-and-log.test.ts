/**
 * A change and its admin-log entry commit together (one FleetStore transaction): when the log
 * entry cannot be written, the change is not kept either, and nobody is told of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PersonChange } from "../../src/routes/people.js";
import { FleetStore } from "../../src/storage/fleet-store.js";
import { createFixture, type Fixture } from "../fixtures.js";

/** Makes the admin log refuse entries of one action, as a full disk or a broken log would. */
function refuseLogEntries(f: Fixture, action: string): () => void {
  const db = f.app.store.sqlite;
  db.exec(`CREATE TEMP TRIGGER refuse_log BEFORE INSERT ON admin_log WHEN NEW.action = '${action}'
    BEGIN SELECT RAISE(ABORT, 'admin log refuses ${action}'); END`);
  return () => db.exec("DROP TRIGGER temp.refuse_log");
}

describe("a change and its admin-log entry commit in one transaction", () => {
  let f: Fixture;
  const told: PersonChange[] = [];
  beforeAll(async () => {
    f = await createFixture();
    f.app.coreEvents.on("person", (change) => told.push(change));
  });
  afterAll(async () => f?.close());

  const count = (sql: string, ...params: unknown[]) =>
    f.app.store.sqlite
      .prepare(sql)
      .pluck()
      .get(...params) as number;

  it("a person whose creation cannot be logged is not created, and nobody is told", async () => {
    const people = count("SELECT COUNT(*) FROM people");
    const entries = count("SELECT COUNT(*) FROM admin_log");
    const allow = refuseLogEntries(f, "person.create");
    try {
      const refused = await f.app.inject({
        method: "POST",
        url: "/api/v1/people",
        headers: f.as("securityAdmin"),
        payload: { name: "Nobody Logged" },
      });
      expect(refused.statusCode).toBe(500);
    } finally {
      allow();
    }
    expect(count("SELECT COUNT(*) FROM people")).toBe(people);
    expect(count("SELECT COUNT(*) FROM people WHERE name = ?", "Nobody Logged")).toBe(0);
    expect(count("SELECT COUNT(*) FROM admin_log")).toBe(entries);
    expect(told).toEqual([]);

    // with the log back, the same request goes through and is logged once
    const created = await f.app.inject({
      method: "POST",
      url: "/api/v1/people",
      headers: f.as("securityAdmin"),
      payload: { name: "Nobody Logged" },
    });
    expect(created.statusCode).toBe(201);
    expect(
      count(
        "SELECT COUNT(*) FROM admin_log WHERE action = 'person.create' AND target = ?",
        created.json().id,
      ),
    ).toBe(1);
    expect(told.map((change) => change.action)).toEqual(["create"]);
  });

  it("an identification that cannot be logged leaves the person as they were", async () => {
    const person = (
      await f.app.inject({
        method: "POST",
        url: "/api/v1/people",
        headers: f.as("securityAdmin"),
        payload: { name: "Still Here" },
      })
    ).json();
    const allow = refuseLogEntries(f, "person.identify");
    try {
      const refused = await f.app.inject({
        method: "POST",
        url: `/api/v1/people/${person.id}/identify`,
        headers: f.as("branchManager"),
        payload: { documentType: "idCard" },
      });
      expect(refused.statusCode).toBe(500);
    } finally {
      allow();
    }
    const read = await f.app.inject({
      method: "GET",
      url: `/api/v1/people/${person.id}`,
      headers: f.as("securityAdmin"),
    });
    expect(read.json().status).toBe(person.status);
    expect(read.json().identifiedAt).toBeUndefined();
  });

  it("a proposal whose entry cannot be logged is not recorded; the person stays unenabled", async () => {
    const person = (
      await f.app.inject({
        method: "POST",
        url: "/api/v1/people",
        headers: f.as("securityAdmin"),
        payload: { name: "Awaiting Enabling" },
      })
    ).json();
    const identified = await f.app.inject({
      method: "POST",
      url: `/api/v1/people/${person.id}/identify`,
      headers: f.as("branchManager"),
      payload: { documentType: "idCard" },
    });
    expect(identified.statusCode).toBe(200);
    const proposals = count(
      "SELECT COUNT(*) FROM proposals WHERE subject_person_id = ?",
      person.id,
    );
    const allow = refuseLogEntries(f, "proposal.create");
    try {
      const refused = await f.app.inject({
        method: "POST",
        url: `/api/v1/people/${person.id}/enable`,
        headers: f.as("securityAdmin"),
        payload: {},
      });
      expect(refused.statusCode).toBe(500);
    } finally {
      allow();
    }
    expect(count("SELECT COUNT(*) FROM proposals WHERE subject_person_id = ?", person.id)).toBe(
      proposals,
    );
    const proposed = await f.app.inject({
      method: "POST",
      url: `/api/v1/people/${person.id}/enable`,
      headers: f.as("securityAdmin"),
      payload: {},
    });
    expect(proposed.statusCode).toBe(202);
  });

  it("a branch whose creation cannot be logged is not created", async () => {
    const branches = count("SELECT COUNT(*) FROM branches");
    const allow = refuseLogEntries(f, "branch.create");
    try {
      const refused = await f.app.inject({
        method: "POST",
        url: "/api/v1/branches",
        headers: f.as("securityAdmin"),
        payload: { name: "Unlogged", branchType: "branch", timeZone: "Europe/Berlin" },
      });
      expect(refused.statusCode).toBe(500);
    } finally {
      allow();
    }
    expect(count("SELECT COUNT(*) FROM branches")).toBe(branches);
  });
});

describe("FleetStore.transaction", () => {
  it("commits everything or nothing, and a transaction inside another joins it", () => {
    const store = FleetStore.open(":memory:");
    try {
      const db = store.sqlite;
      db.exec("CREATE TABLE marks (name TEXT NOT NULL)");
      const mark = (name: string) => db.prepare("INSERT INTO marks (name) VALUES (?)").run(name);
      const marks = () => db.prepare("SELECT name FROM marks ORDER BY rowid").pluck().all();

      store.transaction(() => {
        mark("outer");
        store.transaction(() => mark("inner"));
      });
      expect(marks()).toEqual(["outer", "inner"]);

      expect(() =>
        store.transaction(() => {
          mark("lost outer");
          store.transaction(() => mark("lost inner"));
          throw new Error("the unit of work fails after both writes");
        }),
      ).toThrow("the unit of work fails");
      expect(marks()).toEqual(["outer", "inner"]);
    } finally {
      store.close();
    }
  });
});
