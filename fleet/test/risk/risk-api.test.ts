/**
 * Outsourcing risk register (SPEC §5, MaRisk AT 9) over the HTTP API (app.inject): likelihood
 * derived from the provider's measured behaviour, override only with a justification, the
 * bank's register hidden from CIT companies and other banks, audit export, admin log.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";
import {
  seedAlarm,
  seedAudit,
  seedLock,
  seedOpening,
  seedSealRefusal,
  seedWindow,
} from "./seed.js";

// Monday 23 November 2026, 07:00 UTC; the default period is the 90 days before.
const NOW = Date.parse("2026-11-23T07:00:00.000Z");
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(ms).toISOString();
/** The n-th day before now at 09:00 UTC. */
const day = (n: number, hour = 9) => NOW - n * DAY + (hour - 7) * HOUR;

interface EntryView {
  id: string;
  contractId: string;
  citOrgId: string;
  category: string;
  likelihood: number;
  derivedLikelihood: number;
  override: { likelihood: number; justification: string; by: string } | null;
  impact: number;
  impactSetBy: string | null;
  score: number;
  level: string;
  owner: string | null;
  measures: string;
  reviewDate: string;
  evidence: {
    period: { from: string; to: string };
    numerator: number;
    denominator: number;
    rate: number | null;
    counts: Record<string, number>;
    references: Array<{ type: string; id: string; finding: string }>;
  };
}

let f: Fixture;

beforeEach(async () => {
  f = await createFixture({ startAt: NOW });
});
afterEach(async () => {
  await f.close();
});

async function recompute(
  body: Record<string, unknown> = {},
  who: Parameters<Fixture["as"]>[0] = "securityAdmin",
) {
  return f.app.inject({
    method: "POST",
    url: "/api/v1/risk/recompute",
    headers: f.as(who),
    payload: body,
  });
}

async function entries(): Promise<Map<string, EntryView>> {
  const response = await recompute();
  expect(response.statusCode).toBe(200);
  const list = response.json().entries as EntryView[];
  return new Map(list.map((entry) => [entry.category, entry]));
}

function entryOf(map: Map<string, EntryView>, category: string): EntryView {
  const entry = map.get(category);
  if (entry === undefined) throw new Error(`no ${category} entry`);
  return entry;
}

function adminActions(
  target?: string,
): Array<{ action: string; actor: string; data: Record<string, unknown> }> {
  return f.app.adminLog
    .list({}, { limit: 200 })
    .items.filter((entry) => target === undefined || entry.target === target)
    .filter((entry) => entry.action.startsWith("risk."));
}

/** Ten closed windows on ten days before now, each two hours long. */
function tenWindows(): string[] {
  return Array.from({ length: 10 }, (_, i) =>
    seedWindow(f, {
      notBefore: at(day(i + 1)),
      notAfter: at(day(i + 1, 11)),
      closedAt: at(day(i + 1, 10)),
    }),
  );
}

/** RFC 4180 reader for the test: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 1;
    } else field += char;
  }
  return records;
}

describe("register entries", () => {
  it("a contract without measured behaviour gets every category at rare with the default impact", async () => {
    const map = await entries();
    expect([...map.keys()].sort()).toEqual(
      [
        "alarmDuringWindow",
        "closeSeal",
        "openingOutsideWindow",
        "refusedCredentials",
        "revokedWindow",
        "windowOverrun",
      ].sort(),
    );
    for (const entry of map.values()) {
      expect(entry.contractId).toBe(f.contract.id);
      expect(entry.citOrgId).toBe(f.cit.id);
      expect(entry.derivedLikelihood).toBe(1);
      expect(entry.evidence.numerator).toBe(0);
      expect(entry.evidence.period).toEqual({ from: at(NOW - 90 * DAY), to: at(NOW) });
    }
    const outside = entryOf(map, "openingOutsideWindow");
    expect(outside.impact).toBe(5);
    expect(outside.impactSetBy).toBeNull();
    expect(outside.score).toBe(5);
    expect(outside.level).toBe("medium");
    expect(entryOf(map, "revokedWindow")).toMatchObject({ impact: 2, score: 2, level: "low" });
    // a second recompute updates the same entries instead of adding new ones
    const again = await entries();
    expect(entryOf(again, "closeSeal").id).toBe(entryOf(map, "closeSeal").id);
  });
});

describe("likelihood derived from measured behaviour", () => {
  it("one overrun window in ten (10 %) is likely (4); a second one (20 %) almost certain (5)", async () => {
    const lock = seedLock(f);
    const windows = tenWindows();
    const [first, second] = windows;
    if (first === undefined || second === undefined) throw new Error("seed");
    // opening after the first window's end (11:00 on day 1)
    const late = seedOpening(f, {
      windowId: first,
      deviceId: lock,
      at: at(day(1, 12)),
      sealedAt: at(day(1, 12) + 60_000),
    });
    let entry = entryOf(await entries(), "windowOverrun");
    expect(entry.evidence).toMatchObject({ numerator: 1, denominator: 10, rate: 0.1 });
    expect(entry.derivedLikelihood).toBe(4);
    expect(entry.evidence.references).toContainEqual(
      expect.objectContaining({ type: "opening", id: String(late), finding: "openedAfterEnd" }),
    );
    // the second window closed an hour after its end
    f.app.db
      .prepare("UPDATE access_windows SET closed_at = ? WHERE id = ?")
      .run(at(day(2, 12)), second);
    entry = entryOf(await entries(), "windowOverrun");
    expect(entry.evidence.counts).toMatchObject({
      windowsOverrun: 2,
      openedAfterEnd: 1,
      closedAfterEnd: 1,
    });
    expect(entry.derivedLikelihood).toBe(5);
    expect(entry.evidence.references).toContainEqual(
      expect.objectContaining({ type: "window", id: second, finding: "closedAfterEnd" }),
    );
  });

  it("windows before the period are not measured", async () => {
    const lock = seedLock(f);
    const old = seedWindow(f, { notBefore: at(day(120)), notAfter: at(day(120, 11)) });
    seedOpening(f, { windowId: old, deviceId: lock, at: at(day(120, 12)) });
    const entry = entryOf(await entries(), "windowOverrun");
    expect(entry.evidence).toMatchObject({ numerator: 0, denominator: 0, rate: null });
    expect(entry.derivedLikelihood).toBe(1);
  });

  it("late and missing close seals count against the openings; a timely seal does not", async () => {
    const lock = seedLock(f);
    const [w1, w2] = tenWindows();
    if (w1 === undefined || w2 === undefined) throw new Error("seed");
    const opened = day(1, 9) + 10 * 60_000;
    seedOpening(f, {
      windowId: w1,
      deviceId: lock,
      at: at(opened),
      sealedAt: at(opened + 20 * 60_000),
    });
    const late = seedOpening(f, {
      windowId: w1,
      deviceId: lock,
      at: at(opened + 5 * 60_000),
      sealedAt: at(opened + 3 * HOUR),
    });
    const missing = seedOpening(f, {
      windowId: w2,
      deviceId: lock,
      at: at(day(2, 9)),
      sealStatus: "open",
    });
    for (let i = 0; i < 7; i += 1) {
      seedOpening(f, {
        windowId: w2,
        deviceId: lock,
        at: at(day(2, 9) + i * 60_000),
        sealedAt: at(day(2, 9) + (i + 5) * 60_000),
      });
    }
    const entry = entryOf(await entries(), "closeSeal");
    expect(entry.evidence.counts).toMatchObject({ openings: 10, sealsLate: 1, sealsMissing: 1 });
    expect(entry.evidence.rate).toBe(0.2);
    expect(entry.derivedLikelihood).toBe(5);
    // oldest first: the missing seal (day 2) before the late one (day 1)
    expect(entry.evidence.references.map((r) => [r.id, r.finding])).toEqual([
      [String(missing), "sealMissing"],
      [String(late), "sealLate"],
    ]);
  });

  it("a seal still open while its window runs is not yet missing", async () => {
    const lock = seedLock(f);
    const running = seedWindow(f, {
      notBefore: at(NOW - HOUR),
      notAfter: at(NOW + 2 * HOUR),
      status: "active",
    });
    seedOpening(f, {
      windowId: running,
      deviceId: lock,
      at: at(NOW - 30 * 60_000),
      sealStatus: "open",
    });
    const entry = entryOf(await entries(), "closeSeal");
    expect(entry.evidence).toMatchObject({ numerator: 0, denominator: 1 });
    expect(entry.derivedLikelihood).toBe(1);
  });

  it("openings by the provider's people outside every window count; bank staff and covered openings do not", async () => {
    const lock = seedLock(f);
    seedWindow(f, { notBefore: at(day(3)), notAfter: at(day(3, 11)) });
    const crew = f.accounts.citCrew.person.id;
    const admin = f.accounts.securityAdmin.person.id;
    // inside the window, by the crew
    seedAudit(f, {
      deviceId: lock,
      seq: 1,
      at: at(day(3, 10)),
      kind: "cycle.confirmed",
      actor: crew,
      data: { openingNumber: 1, persons: [crew] },
    });
    // outside any window, by the crew with a bank officer
    seedAudit(f, {
      deviceId: lock,
      seq: 2,
      at: at(day(2, 22)),
      kind: "cycle.confirmed",
      actor: crew,
      data: { openingNumber: 2, persons: [admin, crew] },
    });
    // outside any window, by bank staff only: the bank's own opening
    seedAudit(f, {
      deviceId: lock,
      seq: 3,
      at: at(day(1, 22)),
      kind: "cycle.confirmed",
      actor: admin,
      data: { openingNumber: 3, persons: [admin] },
    });
    const entry = entryOf(await entries(), "openingOutsideWindow");
    expect(entry.evidence).toMatchObject({ numerator: 1, denominator: 2, rate: 0.5 });
    expect(entry.evidence.references).toEqual([
      expect.objectContaining({ type: "audit", id: `${lock}#2`, finding: "openedOutsideWindow" }),
    ]);
    expect(entry.derivedLikelihood).toBe(5);
    // impact 5 (default for this category) × likelihood 5
    expect(entry).toMatchObject({ score: 25, level: "critical" });
  });

  it("an opening after a window was revoked is outside it", async () => {
    const lock = seedLock(f);
    seedWindow(f, {
      notBefore: at(day(3)),
      notAfter: at(day(3, 11)),
      status: "revoked",
      revokedAt: at(day(3, 9) + 30 * 60_000),
    });
    const crew = f.accounts.citCrew.person.id;
    seedAudit(f, {
      deviceId: lock,
      seq: 1,
      at: at(day(3, 10)),
      kind: "cycle.confirmed",
      actor: crew,
      data: { openingNumber: 4, persons: [crew] },
    });
    const map = await entries();
    expect(entryOf(map, "openingOutsideWindow").evidence.numerator).toBe(1);
    expect(entryOf(map, "revokedWindow").evidence).toMatchObject({ numerator: 1, denominator: 1 });
  });

  it("alarms during the provider's windows count; outside them or on other containers they do not", async () => {
    tenWindows();
    const lock = seedLock(f);
    const otherLock = seedLock(f, f.uncontractedContainer.id);
    const forced = seedAlarm(f, { deviceId: lock, kind: "doorForcedOpen", at: at(day(4, 10)) });
    const duress = seedAlarm(f, { deviceId: lock, kind: "forcedUser", at: at(day(5, 10)) });
    seedAlarm(f, { deviceId: lock, kind: "doorAjar", at: at(day(4, 20)) });
    seedAlarm(f, {
      deviceId: otherLock,
      kind: "lockJammed",
      at: at(day(4, 10)),
      containerId: f.uncontractedContainer.id,
    });
    // tamper is not held against the provider
    seedAlarm(f, { deviceId: lock, kind: "tamper", at: at(day(6, 10)) });
    const entry = entryOf(await entries(), "alarmDuringWindow");
    expect(entry.evidence.counts).toMatchObject({
      windows: 10,
      alarms: 2,
      doorForcedOpen: 1,
      forcedUser: 1,
      doorAjar: 0,
      lockJammed: 0,
    });
    expect(entry.evidence.references.map((r) => r.id).sort()).toEqual([forced, duress].sort());
    // 0.2 alarms per window reaches the top threshold (0.15)
    expect(entry.derivedLikelihood).toBe(5);
  });

  it("one-time codes refused to the provider's people and refused close seals count", async () => {
    const lock = seedLock(f);
    const windows = tenWindows();
    const [w1] = windows;
    if (w1 === undefined) throw new Error("seed");
    const crew = f.accounts.citCrew.person.id;
    seedAudit(f, {
      deviceId: lock,
      seq: 1,
      at: at(day(1, 9)),
      kind: "otp.rejected",
      actor: crew,
      data: { reason: "noMatch" },
    });
    // a bank person's refused code is not the provider's
    seedAudit(f, {
      deviceId: lock,
      seq: 2,
      at: at(day(1, 9)),
      kind: "otp.rejected",
      actor: f.accounts.branchManager.person.id,
    });
    const refusal = seedSealRefusal(f, w1, lock, at(day(1, 10)));
    const entry = entryOf(await entries(), "refusedCredentials");
    expect(entry.evidence.counts).toMatchObject({ otpRejected: 1, sealsRefused: 1 });
    expect(entry.evidence.references.map((r) => `${r.type}:${r.id}`)).toEqual([
      `audit:${lock}#1`,
      `sealRefusal:${refusal}`,
    ]);
    // 2 refusals over 10 windows = 0.2: at or above 0.1, below 0.25 → likely
    expect(entry.derivedLikelihood).toBe(4);
  });

  it("a window revoked through the windows API is counted as revoked", async () => {
    // Tuesday 10:00–12:00 Berlin, inside the standing window: approved automatically.
    const request = await f.app.inject({
      method: "POST",
      url: "/api/v1/windows",
      headers: f.as("citDispatcher"),
      payload: {
        containerId: f.container.id,
        crew: [f.accounts.citCrew.person.id],
        purpose: "ATM refill",
        notBefore: "2026-11-24T09:00:00.000Z",
        notAfter: "2026-11-24T11:00:00.000Z",
      },
    });
    expect(request.statusCode).toBe(201);
    const windowId = request.json().id as string;
    const revoke = await f.app.inject({
      method: "POST",
      url: `/api/v1/windows/${windowId}/revoke`,
      headers: f.as("securityAdmin"),
      payload: { reason: "route changed" },
    });
    expect(revoke.statusCode).toBe(200);
    const response = await recompute({ from: at(NOW), to: "2026-11-25T00:00:00.000Z" });
    expect(response.statusCode).toBe(200);
    const entry = (response.json().entries as EntryView[]).find(
      (e) => e.category === "revokedWindow",
    );
    expect(entry?.evidence).toMatchObject({ numerator: 1, denominator: 1 });
    expect(entry?.evidence.references).toEqual([
      expect.objectContaining({ type: "window", id: windowId, finding: "revoked" }),
    ]);
  });

  it("a period with from after to is refused", async () => {
    const response = await recompute({ from: at(NOW), to: at(NOW - DAY) });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_RISK_PERIOD");
  });
});

describe("likelihood override", () => {
  it("an override without a justification is refused", async () => {
    const entry = entryOf(await entries(), "windowOverrun");
    const url = `/api/v1/risk/entries/${entry.id}/likelihood-override`;
    const missing = await f.app.inject({
      method: "PUT",
      url,
      headers: f.as("securityAdmin"),
      payload: { likelihood: 4 },
    });
    expect(missing.statusCode).toBe(400);
    const blank = await f.app.inject({
      method: "PUT",
      url,
      headers: f.as("securityAdmin"),
      payload: { likelihood: 4, justification: "            " },
    });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().code).toBe("E_RISK_JUSTIFICATION");
    const stored = await f.app.inject({
      method: "GET",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("auditor"),
    });
    expect(stored.json().override).toBeNull();
    expect(adminActions(entry.id)).toEqual([]);
  });

  it("an override with a justification decides the score; the derived likelihood is kept and survives recompute", async () => {
    const entry = entryOf(await entries(), "windowOverrun");
    const justification = "Provider changed its subcontractor in October; audit finding 2026-17.";
    const response = await f.app.inject({
      method: "PUT",
      url: `/api/v1/risk/entries/${entry.id}/likelihood-override`,
      headers: f.as("securityAdmin"),
      payload: { likelihood: 4, justification },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      likelihood: 4,
      derivedLikelihood: 1,
      override: { likelihood: 4, justification, by: f.accounts.securityAdmin.person.id },
      impact: 3,
      score: 12,
      level: "high",
    });
    const again = entryOf(await entries(), "windowOverrun");
    expect(again).toMatchObject({ likelihood: 4, derivedLikelihood: 1, score: 12 });
    const logged = adminActions(entry.id);
    expect(logged.map((e) => e.action)).toEqual(["risk.override"]);
    expect(logged[0]?.data).toMatchObject({
      from: null,
      to: 4,
      derivedLikelihood: 1,
      justification,
    });

    const cleared = await f.app.inject({
      method: "DELETE",
      url: `/api/v1/risk/entries/${entry.id}/likelihood-override`,
      headers: f.as("securityAdmin"),
      payload: { justification: "Subcontractor audited, no findings." },
    });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ likelihood: 1, override: null, score: 3, level: "low" });
    expect(adminActions(entry.id).map((e) => e.action)).toEqual([
      "risk.override",
      "risk.overrideClear",
    ]);
  });

  it("a likelihood off the scale is refused", async () => {
    const entry = entryOf(await entries(), "closeSeal");
    const response = await f.app.inject({
      method: "PUT",
      url: `/api/v1/risk/entries/${entry.id}/likelihood-override`,
      headers: f.as("securityAdmin"),
      payload: { likelihood: 6, justification: "Long enough justification here." },
    });
    expect(response.statusCode).toBe(400);
  });
});

describe("who sees and changes the register", () => {
  it("the auditor reads and exports but may not change or recompute", async () => {
    const entry = entryOf(await entries(), "closeSeal");
    const read = await f.app.inject({
      method: "GET",
      url: "/api/v1/risk/entries",
      headers: f.as("auditor"),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json().items).toHaveLength(6);
    const patch = await f.app.inject({
      method: "PATCH",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("auditor"),
      payload: { impact: 5 },
    });
    expect(patch.statusCode).toBe(403);
    expect((await recompute({}, "auditor")).statusCode).toBe(403);
  });

  it("CIT companies never see the bank's register", async () => {
    const entry = entryOf(await entries(), "closeSeal");
    for (const who of ["citDispatcher", "citCrew", "citBDispatcher"] as const) {
      for (const url of [
        "/api/v1/risk/entries",
        `/api/v1/risk/entries/${entry.id}`,
        "/api/v1/risk/export?format=csv",
      ]) {
        const response = await f.app.inject({ method: "GET", url, headers: f.as(who) });
        expect(response.statusCode, `${who} ${url}`).toBe(403);
      }
      expect((await recompute({}, who)).statusCode).toBe(403);
    }
  });

  it("bank roles other than security admin and auditor are refused", async () => {
    for (const who of ["branchManager", "technician"] as const) {
      const response = await f.app.inject({
        method: "GET",
        url: "/api/v1/risk/entries",
        headers: f.as(who),
      });
      expect(response.statusCode).toBe(403);
    }
  });

  it("bank B can neither read, change, override, recompute nor export bank A's register", async () => {
    const entry = entryOf(await entries(), "closeSeal");
    const b = f.as("bankBAdmin");
    const get = await f.app.inject({
      method: "GET",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: b,
    });
    expect(get.statusCode).toBe(404);
    const patch = await f.app.inject({
      method: "PATCH",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: b,
      payload: { impact: 1 },
    });
    expect(patch.statusCode).toBe(404);
    const override = await f.app.inject({
      method: "PUT",
      url: `/api/v1/risk/entries/${entry.id}/likelihood-override`,
      headers: b,
      payload: { likelihood: 1, justification: "Trying to lower another bank's risk." },
    });
    expect(override.statusCode).toBe(404);
    const recomputeA = await recompute({ contractId: f.contract.id }, "bankBAdmin");
    expect(recomputeA.statusCode).toBe(404);
    const list = await f.app.inject({ method: "GET", url: "/api/v1/risk/entries", headers: b });
    expect(list.json().items).toEqual([]);
    const exported = await f.app.inject({ method: "GET", url: "/api/v1/risk/export", headers: b });
    expect(exported.json().entries).toEqual([]);
    // bank A's entry is unchanged
    const still = await f.app.inject({
      method: "GET",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("auditor"),
    });
    expect(still.json()).toMatchObject({ impact: entry.impact, override: null });
  });
});

describe("changes and export", () => {
  it("the bank sets impact, owner, measures and review date; each change is in the admin log", async () => {
    const entry = entryOf(await entries(), "alarmDuringWindow");
    const response = await f.app.inject({
      method: "PATCH",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("securityAdmin"),
      payload: {
        impact: 5,
        owner: "Head of cash logistics",
        measures: "Quarterly route review",
        reviewDate: "2027-03-31",
      },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      impact: 5,
      impactSetBy: f.accounts.securityAdmin.person.id,
      score: 5,
      level: "medium",
      owner: "Head of cash logistics",
      reviewDate: "2027-03-31",
    });
    const logged = adminActions(entry.id);
    expect(logged.map((e) => e.action)).toEqual(["risk.update"]);
    expect(logged[0]?.data.changes).toMatchObject({
      impact: { from: 4, to: 5 },
      reviewDate: { to: "2027-03-31" },
    });
    expect(f.app.adminLog.verify().ok).toBe(true);
  });

  it("a review date that is no calendar day is refused", async () => {
    const entry = entryOf(await entries(), "alarmDuringWindow");
    const response = await f.app.inject({
      method: "PATCH",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("securityAdmin"),
      payload: { reviewDate: "2027-02-30" },
    });
    expect(response.statusCode).toBe(400);
    // every body's dates are checked against the calendar before a route sees them
    expect(response.json().code).toBe("E_DATE");
    expect(adminActions(entry.id)).toEqual([]);
  });

  it("the register's routes are in the OpenAPI document", async () => {
    const response = await f.app.inject({ method: "GET", url: "/openapi.json" });
    const paths = Object.keys(response.json().paths as Record<string, unknown>);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/api/v1/risk/entries",
        "/api/v1/risk/entries/{entryId}",
        "/api/v1/risk/entries/{entryId}/likelihood-override",
        "/api/v1/risk/recompute",
        "/api/v1/risk/export",
      ]),
    );
  });

  it("recompute and export are in the admin log", async () => {
    await entries();
    await f.app.inject({
      method: "GET",
      url: "/api/v1/risk/export?format=csv",
      headers: f.as("auditor"),
    });
    const actions = adminActions().map((e) => [e.action, e.actor]);
    expect(actions).toEqual([
      ["risk.recompute", f.accounts.securityAdmin.person.id],
      ["risk.export", f.accounts.auditor.person.id],
    ]);
  });

  it("the periodic recompute fills the register and logs only what changed", async () => {
    f.app.riskSweep();
    const list = await f.app.inject({
      method: "GET",
      url: "/api/v1/risk/entries",
      headers: f.as("auditor"),
    });
    expect(list.json().items).toHaveLength(6);
    expect(adminActions().map((e) => [e.action, e.actor])).toEqual([["risk.recompute", "system"]]);
    f.app.riskSweep();
    expect(adminActions()).toHaveLength(1);
    // new behaviour changes a likelihood: the next run is logged again
    const lock = seedLock(f);
    const [w1] = tenWindows();
    if (w1 === undefined) throw new Error("seed");
    seedSealRefusal(f, w1, lock, at(day(1, 10)));
    f.app.riskSweep();
    const logged = adminActions();
    expect(logged).toHaveLength(2);
    expect(logged[1]?.data.changed).toEqual([
      expect.objectContaining({ category: "refusedCredentials", from: 1, to: 4 }),
    ]);
  });

  it("the CSV export is RFC 4180 and cells a spreadsheet would run as formulas are defused", async () => {
    const entry = entryOf(await entries(), "closeSeal");
    await f.app.inject({
      method: "PATCH",
      url: `/api/v1/risk/entries/${entry.id}`,
      headers: f.as("securityAdmin"),
      payload: {
        owner: '=HYPERLINK("http://evil.example","x")',
        measures: '+1, "dual" seal check\r\nsecond line',
        title: "@SUM(A1:A9)",
      },
    });
    const response = await f.app.inject({
      method: "GET",
      url: "/api/v1/risk/export?format=csv",
      headers: f.as("auditor"),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/csv/);
    expect(response.headers["content-disposition"]).toMatch(
      /attachment; filename="risk-register_.*\.csv"/,
    );
    const text = response.body;
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    const records = parseCsv(text);
    const header = records[0] ?? [];
    expect(records).toHaveLength(7);
    for (const record of records) expect(record).toHaveLength(header.length);
    const row = records.find((record) => record[0] === entry.id) ?? [];
    const cell = (label: string) => row[header.indexOf(label)];
    expect(cell("Owner")).toBe(`'=HYPERLINK("http://evil.example","x")`);
    expect(cell("Measures")).toBe(`'+1, "dual" seal check\r\nsecond line`);
    expect(cell("Title")).toBe("'@SUM(A1:A9)");
    expect(cell("Likelihood")).toBe("1");
    expect(cell("Level")).toBe("low");
  });

  it("the JSON export carries the scales and thresholds with every entry and its evidence", async () => {
    await entries();
    const response = await f.app.inject({
      method: "GET",
      url: "/api/v1/risk/export?format=json",
      headers: f.as("auditor"),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.bankOrgId).toBe(f.bank.id);
    expect(body.scales.likelihood[4]).toEqual({ value: 5, label: "almost certain" });
    expect(body.scales.categories).toHaveLength(6);
    expect(body.entries).toHaveLength(6);
    expect(body.entries[0].evidence.period.to).toBe(at(NOW));
  });
});
