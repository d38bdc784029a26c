/**
 * Property (fast-check): no sequence of API calls by one person — with any accounts that person
 * created, puppets of puppets included — ever yields two approvals on the same decision. The
 * bank's second officer is the worst case: a rubber stamp that approves every account and every
 * enabling the group proposes, but never decides a policy change or a window itself.
 */
import { DEFAULT_LOCK_POLICY } from "@lockfleet/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

const MONDAY = Date.parse("2026-11-23T07:00:00.000Z");
const PASSWORD = "puppet password 2468 x";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture({ startAt: MONDAY });
});
afterAll(async () => f?.close());

type Headers = Record<string, string>;
interface Member {
  personId: string;
  headers: Headers;
}

const call = (headers: Headers, method: "GET" | "POST", url: string, payload?: object) =>
  f.app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });

type Action =
  | { kind: "register"; actor: number }
  | { kind: "proposeEnable"; actor: number; person: number }
  | {
      kind: "proposeAccount";
      actor: number;
      person: number;
      role: "securityAdmin" | "branchManager";
    }
  | { kind: "stamp" }
  | { kind: "login"; person: number }
  | { kind: "approveProposal"; actor: number }
  | { kind: "approvePolicy"; actor: number }
  | { kind: "approveWindow"; actor: number };

const index = fc.nat({ max: 7 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("register" as const), actor: index }),
  fc.record({ kind: fc.constant("proposeEnable" as const), actor: index, person: index }),
  fc.record({
    kind: fc.constant("proposeAccount" as const),
    actor: index,
    person: index,
    role: fc.constantFrom("securityAdmin" as const, "branchManager" as const),
  }),
  fc.constant({ kind: "stamp" as const }),
  fc.record({ kind: fc.constant("login" as const), person: index }),
  fc.record({ kind: fc.constant("approveProposal" as const), actor: index }),
  fc.record({ kind: fc.constant("approvePolicy" as const), actor: index }),
  fc.record({ kind: fc.constant("approveWindow" as const), actor: index }),
);

let run = 0;
let state:
  | {
      insider: Member;
      members: Member[];
      group: Set<string>;
      registered: string[];
      emails: Map<string, string>;
    }
  | undefined;

function world() {
  if (state === undefined) {
    const insider: Member = {
      personId: f.accounts.securityAdmin.person.id,
      headers: f.as("securityAdmin"),
    };
    state = {
      insider,
      members: [insider],
      // everyone the group registered: the group, as far as the fleet could ever tell
      group: new Set<string>([insider.personId]),
      registered: [],
      emails: new Map(),
    };
  }
  return state;
}

describe("maker–checker, as a property", () => {
  it("one person, with every account they made, never gives two approvals to one decision", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 14 }), async (actions) => {
        run += 1;
        // the insider and everything their group made so far (kept across runs: it only grows)
        const { insider, members, group, registered, emails } = world();
        const actor = (i: number) => members[i % members.length] as Member;
        const person = (i: number) => registered[i % Math.max(1, registered.length)];

        // the decisions the insider wants pushed through alone
        const change = (
          await call(insider.headers, "POST", "/policy-changes", {
            containerId: f.container.id,
            kind: "policy",
            policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: run % 4 },
            reason: `insider run ${run}`,
          })
        ).json();
        const window = (
          await call(f.as("citDispatcher"), "POST", "/windows", {
            containerId: f.container.id,
            crew: [f.accounts.citCrew.person.id],
            purpose: `run ${run}`,
            notBefore: "2026-11-28T09:00:00.000Z",
            notAfter: "2026-11-28T11:00:00.000Z",
          })
        ).json();

        for (const step of actions) {
          switch (step.kind) {
            case "register": {
              const created = await call(actor(step.actor).headers, "POST", "/people", {
                name: `Puppet ${registered.length}`,
              });
              if (created.statusCode !== 201) break;
              const id = created.json().id as string;
              await call(actor(step.actor).headers, "POST", `/people/${id}/identify`, {
                documentType: "idCard",
              });
              registered.push(id);
              group.add(id);
              break;
            }
            case "proposeEnable": {
              const id = person(step.person);
              if (id !== undefined)
                await call(actor(step.actor).headers, "POST", `/people/${id}/enable`, {});
              break;
            }
            case "proposeAccount": {
              const id = person(step.person);
              if (id === undefined || emails.has(id)) break;
              const email = `p${registered.indexOf(id)}@example.test`;
              const answer = await call(actor(step.actor).headers, "POST", "/users", {
                personId: id,
                role: step.role,
                email,
                password: PASSWORD,
                ...(step.role === "branchManager" ? { branchIds: [f.branch.id] } : {}),
              });
              if (answer.statusCode === 202) emails.set(id, email);
              break;
            }
            case "stamp": {
              const pending = (
                await call(f.as("secondOfficer"), "GET", "/proposals?status=pending")
              ).json();
              for (const proposal of pending.items as Array<{ id: string; kind: string }>) {
                if (proposal.kind === "user.create" || proposal.kind === "person.enable") {
                  await call(f.as("secondOfficer"), "POST", `/proposals/${proposal.id}/approve`);
                }
              }
              break;
            }
            case "login": {
              const id = person(step.person);
              const email = id === undefined ? undefined : emails.get(id);
              if (id === undefined || email === undefined || members.some((m) => m.personId === id))
                break;
              const login = await call({}, "POST", "/auth/login", { email, password: PASSWORD });
              if (login.statusCode === 200) {
                members.push({
                  personId: id,
                  headers: { cookie: String(login.headers["set-cookie"]).split(";")[0] as string },
                });
              }
              break;
            }
            case "approveProposal": {
              const pending = (
                await call(actor(step.actor).headers, "GET", "/proposals?status=pending")
              ).json();
              for (const proposal of (pending.items ?? []) as Array<{ id: string }>) {
                await call(actor(step.actor).headers, "POST", `/proposals/${proposal.id}/approve`);
              }
              break;
            }
            case "approvePolicy":
              await call(actor(step.actor).headers, "POST", `/policy-changes/${change.id}/approve`);
              break;
            case "approveWindow":
              await call(actor(step.actor).headers, "POST", `/windows/${window.id}/approve`);
              break;
          }
        }

        const ofGroup = (people: readonly string[]) => people.filter((p) => group.has(p)).length;
        const policy = (await call(f.as("auditor"), "GET", `/policy-changes/${change.id}`)).json();
        expect(ofGroup(policy.approvedBy)).toBeLessThanOrEqual(1);
        expect(policy.status).toBe("pending");
        const decided = (await call(f.as("securityAdmin"), "GET", `/windows/${window.id}`)).json();
        expect(ofGroup(decided.approvedBy)).toBeLessThanOrEqual(1);
        expect(decided.status).toBe("requested");
        const proposals = (
          await call(f.as("secondOfficer"), "GET", "/proposals?status=approved")
        ).json();
        for (const proposal of proposals.items as Array<{
          proposedBy: string;
          decidedBy: string;
        }>) {
          if (group.has(proposal.proposedBy)) expect(group.has(proposal.decidedBy)).toBe(false);
        }
      }),
      { numRuns: 30, endOnFailure: true },
    );
  }, 600_000);
});

describe("the property's world", () => {
  it("grew puppets that logged in (so the property attacked with them)", () => {
    expect(world().members.length).toBeGreaterThan(1);
  });
});
