import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

describe("branches, containers and contracts", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => f?.close());

  const post = (url: string, payload: object, method: "POST" | "PATCH" = "POST") =>
    f.app.inject({ method, url: `/api/v1${url}`, headers: f.as("securityAdmin"), payload });

  it("a branch's time zone must be an IANA zone the runtime knows", async () => {
    const bad = await post("/branches", {
      name: "X",
      branchType: "branch",
      timeZone: "Europe/Atlantis",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("E_TIME_ZONE");
    const good = await post("/branches", {
      name: "Wien",
      branchType: "offsite",
      timeZone: "Europe/Vienna",
    });
    expect(good.statusCode).toBe(201);
    const change = await post(`/branches/${good.json().id}`, { timeZone: "Mars/Olympus" }, "PATCH");
    expect(change.json().code).toBe("E_TIME_ZONE");
  });

  it("a branch keeps its holiday calendar; a holiday ending before it starts is refused", async () => {
    const holidays = [
      { from: "2026-12-24", to: "2026-12-26", yearlyRepeat: true, name: "Weihnachten" },
      { from: "2026-04-03", to: "2026-04-06", yearlyRepeat: false },
    ];
    const res = await post(`/branches/${f.branch.id}`, { holidays }, "PATCH");
    expect(res.statusCode).toBe(200);
    expect(res.json().holidays).toEqual(holidays);
    const bad = await post(
      `/branches/${f.branch.id}`,
      { holidays: [{ from: "2026-05-02", to: "2026-05-01", yearlyRepeat: false }] },
      "PATCH",
    );
    expect(bad.json().code).toBe("E_HOLIDAY_RANGE");
  });

  it("a branch's region must belong to the same bank", async () => {
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/branches",
      headers: f.as("bankBAdmin"),
      payload: {
        name: "X",
        branchType: "branch",
        timeZone: "Europe/Vienna",
        regionId: f.region.id,
      },
    });
    expect(res.statusCode).toBe(404);
  });

  it("a container gets the default lock policy unless one is given, and an out-of-range policy is refused", async () => {
    const plain = await post("/containers", {
      branchId: f.branch.id,
      name: "Recycler",
      type: "recycler",
      grade: "III",
      lockClass: "B",
    });
    expect(plain.statusCode).toBe(201);
    expect(plain.json().policy).toEqual(DEFAULT_LOCK_POLICY);
    const policy = { ...DEFAULT_LOCK_POLICY, dualControl: "triple", timeDelayMin: 15 };
    const strict = await post("/containers", {
      branchId: f.branch.id,
      name: "Vault 2",
      type: "vaultDoor",
      grade: "X",
      lockClass: "D",
      policy,
    });
    expect(strict.json().policy).toEqual(policy);
    const bad = await post("/containers", {
      branchId: f.branch.id,
      name: "Bad",
      type: "safe",
      grade: "I",
      lockClass: "A",
      policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 500 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("E_SCHEMA");
    const badType = await post("/containers", {
      branchId: f.branch.id,
      name: "Bad",
      type: "piggyBank",
      grade: "I",
      lockClass: "A",
    });
    expect(badType.statusCode).toBe(400);
    const badGrade = await post("/containers", {
      branchId: f.branch.id,
      name: "Bad",
      type: "safe",
      grade: "XIV",
      lockClass: "A",
    });
    expect(badGrade.statusCode).toBe(400);
  });

  it("a contract may list only the bank's own containers, and its standing windows only listed ones", async () => {
    const foreign = await post("/contracts", {
      citOrgId: f.cit.id,
      name: "X",
      containerIds: [f.containerB.id],
    });
    expect(foreign.statusCode).toBe(404);
    const stray = await post("/contracts", {
      citOrgId: f.cit.id,
      name: "X",
      containerIds: [f.container.id],
      standingWindows: [
        {
          startDay: 1,
          startTime: "06:00",
          endDay: 1,
          endTime: "08:00",
          containerIds: [f.uncontractedContainer.id],
        },
      ],
    });
    expect(stray.json().code).toBe("E_CONTRACT_WINDOW");
    const notCit = await post("/contracts", { citOrgId: f.bank.id, name: "X", containerIds: [] });
    expect(notCit.json().code).toBe("E_CONTRACT_PARTY");
  });

  it("a contract in the future or past gives the CIT no sight; inside its validity it does", async () => {
    const from = new Date(f.clock.now() + 86_400_000).toISOString();
    const until = new Date(f.clock.now() + 2 * 86_400_000).toISOString();
    const res = await post("/contracts", {
      citOrgId: f.cit.id,
      name: "Later",
      containerIds: [f.uncontractedContainer.id],
      validFrom: from,
      validUntil: until,
    });
    expect(res.statusCode).toBe(201);
    const see = () =>
      f.app.inject({
        method: "GET",
        url: `/api/v1/containers/${f.uncontractedContainer.id}`,
        headers: f.as("citCrew"),
      });
    expect((await see()).statusCode).toBe(404);
    f.clock.advance(86_400_000 + 1);
    expect((await see()).statusCode).toBe(200);
    f.clock.advance(86_400_000);
    expect((await see()).statusCode).toBe(404);
  });

  it("regions: unique names per bank", async () => {
    const dup = await post(`/orgs/${f.bank.id}/regions`, { name: "North" });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe("E_REGION_EXISTS");
  });
});
