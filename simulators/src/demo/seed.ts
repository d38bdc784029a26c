/**
 * The demo world, created the way a bank would create it: the first security admin is set up
 * with `lockfleet-fleet init`, and everything else goes through the fleet's HTTP API as that
 * admin — a CIT company, two branches with three containers, people identified and
 * enabled, login accounts, a contract with a standing route window. What was created (ids,
 * demo logins, later the codes people chose at the locks) is kept in `<data>/demo.json`
 * (mode 0600), so a second start reuses the same world. The passwords and codes in it are
 * sealed (AES-256-GCM) under `<data>/demo.kek`, as the locks seal theirs: the demo types the
 * simulated people's codes itself, but no code or password lies in clear on disk.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSealedValue, loadOrCreateKek, openValue, sealValue } from "@lockfleet/edge";
import { DEFAULT_LOCK_POLICY, type LockPolicy } from "@lockfleet/protocol";
import { DemoError, messageOf } from "./errors.js";
import { carriedOut, FleetClient } from "./fleet-client.js";
import type { DemoOptions } from "./options.js";
import type { FirstAdmin } from "./parts.js";

export const DEMO_FILE = "demo.json";
export const DEMO_KEK_FILE = "demo.kek";
export const DEMO_TIME_ZONE = "Europe/Berlin";

export interface DemoLogin {
  role: string;
  name: string;
  org: string;
  email: string;
  password: string;
}

export interface DemoPerson {
  id: string;
  name: string;
}

/** A person's user on one lock, with the code they chose there (kept only in demo.json). */
export interface DemoLockUser {
  slot: number;
  personId: string;
  role: "user" | "courier";
  code: string;
}

export interface DemoLockPlan {
  /** Short name, also the lock's data directory under `<data>/locks/`. */
  name: string;
  branch: string;
  container: string;
  containerId: string;
  /** Set once the lock is enrolled. */
  deviceId?: string;
  /** Filled once the people have rights on the lock and chose their codes at its keypad. */
  users: DemoLockUser[];
}

export interface DemoWorld {
  version: 2;
  createdAt: string;
  bank: { id: string; name: string };
  cit: { id: string; name: string };
  contractId: string;
  logins: DemoLogin[];
  bankStaff: DemoPerson[];
  crew: DemoPerson[];
  locks: DemoLockPlan[];
}

const BANK = "Sparkasse Isartal (demo)";
const CIT = "WertLogistik Süd GmbH (demo)";

const loginPurpose = (login: DemoLogin) => `demo-login|${login.email}`;
const codePurpose = (plan: DemoLockPlan, user: DemoLockUser) =>
  `demo-code|${plan.name}|${user.slot}|${user.personId}`;

function demoKek(dataDir: string): Buffer {
  return loadOrCreateKek({ path: join(dataDir, DEMO_KEK_FILE), source: "default" });
}

/**
 * The world with every password and code passed through `transform` (with the purpose it is
 * sealed for): sealing on the way to disk, opening on the way back.
 */
function mapSecrets(world: DemoWorld, transform: (purpose: string, value: unknown) => unknown) {
  return {
    ...world,
    logins: world.logins.map((login) => ({
      ...login,
      password: transform(loginPurpose(login), login.password),
    })),
    locks: world.locks.map((plan) => ({
      ...plan,
      users: plan.users.map((user) => ({
        ...user,
        code: transform(codePurpose(plan, user), user.code),
      })),
    })),
  };
}

function sealWorld(world: DemoWorld, kek: Uint8Array): unknown {
  return mapSecrets(world, (purpose, text) =>
    sealValue(kek, purpose, Buffer.from(text as string, "utf8")),
  );
}

function openWorld(stored: DemoWorld, kek: Uint8Array): DemoWorld {
  return mapSecrets(stored, (purpose, value) => {
    if (!isSealedValue(value)) throw new Error("a password or code is not sealed");
    return openValue(kek, purpose, value).toString("utf8");
  }) as DemoWorld;
}

export function readWorld(dataDir: string): DemoWorld | undefined {
  const path = join(dataDir, DEMO_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const stored = JSON.parse(readFileSync(path, "utf8")) as DemoWorld;
    if (stored.version !== 2) throw new Error(`version ${String(stored.version)}`);
    return openWorld(stored, demoKek(dataDir));
  } catch (error) {
    throw new DemoError(
      "E_DEMO_DATA",
      `${path} is not a demo world this version can read (${messageOf(error)}); start with a new --data directory`,
    );
  }
}

export function writeWorld(dataDir: string, world: DemoWorld): void {
  const text = `${JSON.stringify(sealWorld(world, demoKek(dataDir)), null, 2)}\n`;
  writeFileSync(join(dataDir, DEMO_FILE), text, { mode: 0o600 });
}

function password(): string {
  return `demo-${randomBytes(9).toString("base64url")}`;
}

interface Created {
  id: string;
}

/**
 * A person identified (against an ID card) by the admin and enabled — for the bank's own people
 * on the admin's proposal, approved by the second officer.
 */
async function person(
  admin: FleetClient,
  checker: FleetClient,
  input: { name: string; orgId?: string },
): Promise<DemoPerson> {
  const created = await admin.post<Created>("people", input);
  await admin.post(`people/${created.id}/identify`, { documentType: "idCard" });
  await carriedOut(await admin.post(`people/${created.id}/enable`, {}), checker);
  return { id: created.id, name: input.name };
}

async function login(
  admin: FleetClient,
  checker: FleetClient,
  who: DemoPerson,
  role: string,
  org: string,
  email: string,
  scope: Record<string, unknown> = {},
): Promise<DemoLogin> {
  const secret = password();
  await carriedOut(
    await admin.post("users", { personId: who.id, role, email, password: secret, ...scope }),
    checker,
  );
  return { role, name: who.name, org, email, password: secret };
}

/** The bank's first two security officers, for `lockfleet-fleet init`; new passwords each time. */
export function firstAdmin(): FirstAdmin & { login: DemoLogin; secondLogin: DemoLogin } {
  const login: DemoLogin = {
    role: "securityAdmin",
    name: "Sabine Richter",
    org: BANK,
    email: "security@sparkasse.demo",
    password: password(),
  };
  const secondLogin: DemoLogin = {
    role: "securityAdmin",
    name: "Markus Hoffmann",
    org: BANK,
    email: "sicherheit2@sparkasse.demo",
    password: password(),
  };
  return {
    bankName: BANK,
    adminName: login.name,
    email: login.email,
    password: login.password,
    second: { name: secondLogin.name, email: secondLogin.email, password: secondLogin.password },
    login,
    secondLogin,
  };
}

/** The second security officer of the demo bank (the checker of the first one's proposals). */
export function checkerLogin(world: Pick<DemoWorld, "logins">): DemoLogin {
  const officers = world.logins.filter((login) => login.role === "securityAdmin");
  const second = officers[1];
  if (second === undefined) {
    throw new DemoError(
      "E_DEMO_DATA",
      "the demo world has one security officer; start with a new --data directory",
    );
  }
  return second;
}

/** Everything after the first admin, through the fleet's HTTP API as that admin. */
export async function seedWorld(options: {
  baseUrl: string;
  adminLogin: DemoLogin;
  secondLogin: DemoLogin;
  demo: DemoOptions;
  now: number;
}): Promise<DemoWorld> {
  const adminLogin = options.adminLogin;
  const admin = await FleetClient.login(options.baseUrl, adminLogin.email, adminLogin.password);
  const checker = await FleetClient.login(
    options.baseUrl,
    options.secondLogin.email,
    options.secondLogin.password,
  );
  const me = await admin.get<{ principal: { orgId: string } }>("auth/me");
  const bank = { id: me.principal.orgId };

  const cit = await admin.post<Created>("orgs", { kind: "cit", name: CIT });
  const policy: LockPolicy = {
    ...DEFAULT_LOCK_POLICY,
    dualControl: "dual",
    timeDelayMin: options.demo.timeDelayMin,
    confirmationWindowMin: options.demo.confirmationWindowMin,
  };
  const branches = [
    {
      name: "Filiale Marienplatz",
      containers: [
        ["Tresor", "safe", "IV"],
        ["GAA 1", "gaa", "III"],
      ],
    },
    { name: "Filiale Schwabing", containers: [["AKT Kasse", "akt", "III"]] },
  ] as const;
  const containers: Array<{ id: string; name: string; branch: string; branchId: string }> = [];
  for (const branch of branches) {
    const created = await admin.post<Created>("branches", {
      name: branch.name,
      branchType: "branch",
      timeZone: DEMO_TIME_ZONE,
    });
    for (const [name, type, grade] of branch.containers) {
      const container = await admin.post<Created>("containers", {
        branchId: created.id,
        name,
        type,
        grade,
        lockClass: "C",
        // The ATM is replenished by bank staff without a delay, so a newcomer sees an opening
        // within the first minute while the CIT crew's safe counts its delay down.
        policy: type === "gaa" ? { ...policy, timeDelayMin: 0 } : policy,
      });
      containers.push({ id: container.id, name, branch: branch.name, branchId: created.id });
    }
  }

  const manager = await person(admin, checker, { name: "Thomas Berger" });
  const auditor = await person(admin, checker, { name: "Petra Lang" });
  const bankStaff = [
    await person(admin, checker, { name: "Anna Weber" }),
    await person(admin, checker, { name: "Ben Krause" }),
  ];
  const dispatcher = await person(admin, checker, { name: "Dieter Vogel", orgId: cit.id });
  const crew = [
    await person(admin, checker, { name: "Carla Neumann", orgId: cit.id }),
    await person(admin, checker, { name: "Can Yilmaz", orgId: cit.id }),
  ];
  const logins = [
    adminLogin,
    options.secondLogin,
    // the branch manager is bound to both demo branches
    await login(admin, checker, manager, "branchManager", BANK, "filiale@sparkasse.demo", {
      branchIds: [...new Set(containers.map((container) => container.branchId))],
    }),
    await login(admin, checker, auditor, "auditor", BANK, "revision@sparkasse.demo"),
    await login(admin, checker, dispatcher, "citDispatcher", CIT, "dispo@wertlogistik.demo"),
  ];

  const contract = await admin.post<Created>("contracts", {
    citOrgId: cit.id,
    name: "Cash logistics Munich 2026",
    containerIds: containers.map((container) => container.id),
    // A standing route window over the whole week, so that the demo's requests are
    // approved at once whenever the demo runs.
    standingWindows: [{ startDay: 1, startTime: "00:00", endDay: 7, endTime: "23:59" }],
  });

  const locks = containers.map((container, index) => ({
    name: `lock-${index + 1}`,
    branch: container.branch,
    container: container.name,
    containerId: container.id,
    users: [],
  }));

  return {
    version: 2,
    createdAt: new Date(options.now).toISOString(),
    bank: { id: bank.id, name: BANK },
    cit: { id: cit.id, name: CIT },
    contractId: contract.id,
    logins,
    bankStaff,
    crew,
    locks,
  };
}
