/**
 * The end-to-end world: the real fleet (fastify on an ephemeral HTTP port, its embedded aedes
 * broker on an ephemeral MQTT port, SQLite in a temporary directory) with the fleet test
 * fixture's tenants and logins, and virtual locks — the real edge device runtime on the
 * virtual Johnny-Five board — enrolled through the fleet's HTTP API and connected over TCP.
 *
 * Time: the fleet and the locks share one wall clock that starts on a fixed Monday morning
 * (inside the contract's standing route window, whatever day the tests run) and runs in real
 * time. Each lock's monotonic clock, which alone measures its time delay and confirmation
 * window, can be moved forward by hand, so a 5-minute delay passes in milliseconds while the
 * lock's own scheduler still drives every step.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  type Clock,
  DeviceRuntime,
  openHardware,
  openPassword,
  provision,
  readConfig,
  readIdentity,
} from "@lockfleet/edge";
import { virtualProfile } from "@lockfleet/hardware-profiles";
import {
  type AuditRecord,
  openDeviceMessage,
  parseTopic,
  peekDeviceMessage,
} from "@lockfleet/protocol";
import {
  createFixture,
  type Fixture,
  type FixtureRole,
  type OtherAccount,
} from "../../../../fleet/test/fixtures.js";
import { createVirtualBoard, type VirtualBoard } from "../../../src/virtual-board/virtual-board.js";
import { MqttTap } from "./mqtt-tap.js";

/** Monday 23 November 2026, 10:00 in Berlin: inside CIT A's standing window (Mon–Fri 06–20). */
export const MONDAY_MORNING = Date.parse("2026-11-23T09:00:00Z");

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it yields a value (not undefined/false); fails naming `what`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await wait(20);
  }
}

/** The lock's clocks: the shared wall clock, and a monotonic clock that can be moved on. */
export class LockClock implements Clock {
  #skippedMs = 0;

  constructor(readonly wall: () => number) {}

  now(): number {
    return this.wall();
  }

  monotonic(): number {
    return performance.now() + this.#skippedMs;
  }

  /** Lets `ms` pass for the lock's durations (time delay, confirmation window) at once. */
  skip(ms: number): void {
    this.#skippedMs += ms;
  }
}

export type Who = FixtureRole | OtherAccount;

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** The fleet's answers as these tests read them (a subset of each view's fields). */
export interface PersonView {
  id: string;
  orgId: string;
  status: string;
  identifiedBy?: string;
  enabledBy?: string;
}

export interface WindowView {
  id: string;
  citOrgId: string;
  status: string;
  autoApproved: boolean;
  approvalsRequired: number;
  approvedBy: string[];
  grantId: string | null;
  openings: number;
  closedAt: string | null;
  closedByDevice: string | null;
  locks: Array<{ deviceId: string; grantStatus: string }>;
}

export interface AdminLogEntry {
  seq: number;
  at: string;
  orgId: string | null;
  actor: string;
  action: string;
  target: string | null;
  data: Record<string, unknown>;
}

export interface VirtualLock {
  deviceId: string;
  org: string;
  dataDir: string;
  kek: Uint8Array;
  board: VirtualBoard;
  runtime: DeviceRuntime;
  clock: LockClock;
  /** The wire between this lock and the broker, where an attacker may listen and inject. */
  tap: MqttTap;
  /** The lock's own audit log, in seq order. */
  audit(): AuditRecord[];
  stop(): Promise<void>;
}

export class E2eWorld {
  readonly locks: VirtualLock[] = [];
  readonly #dirs: string[] = [];

  private constructor(
    readonly fleet: Fixture,
    readonly baseUrl: string,
  ) {}

  /**
   * Starts the fleet on ephemeral ports (HTTP, and the embedded broker unless an external
   * broker is given) with its clock on `startAt` and running in real time.
   */
  static async start(
    options: { startAt?: number; externalBrokerUrl?: string } = {},
  ): Promise<E2eWorld> {
    const startAt = options.startAt ?? MONDAY_MORNING;
    const fleet = await createFixture({
      startAt,
      ...(options.externalBrokerUrl === undefined
        ? {}
        : { app: { mqtt: { url: options.externalBrokerUrl } } }),
    });
    // The fixture's test clock stands still; here it runs, as the world's wall clock.
    const origin = performance.now();
    Object.defineProperty(fleet.clock, "nowMs", {
      configurable: true,
      // whole milliseconds, as Date.now() gives them
      get: () => startAt + Math.floor(performance.now() - origin),
      set: () => {
        throw new Error("E_E2E_CLOCK: the end-to-end world's clock runs on its own");
      },
    });
    try {
      await fleet.app.listen({ port: 0, host: "127.0.0.1" });
    } catch (error) {
      await fleet.close();
      throw error;
    }
    const address = fleet.app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return new E2eWorld(fleet, `http://127.0.0.1:${port}`);
  }

  /** The world's wall clock (the fleet's). */
  now(): number {
    return this.fleet.clock.now();
  }

  iso(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString().replace(/\.\d+Z$/, "Z");
  }

  /** One HTTP call to the fleet's API as `who` (API token), answered whatever the status. */
  async call<T = unknown>(
    who: Who | undefined,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (who !== undefined) Object.assign(headers, this.fleet.as(who));
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.baseUrl}/api/v1/${path.replace(/^\//, "")}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text.length > 0) {
      parsed = JSON.parse(text);
    }
    return { status: response.status, body: parsed as T, text, headers: response.headers };
  }

  /** Like `call`, but a status other than `expected` fails with the fleet's own answer. */
  async ok<T>(
    who: Who,
    method: string,
    path: string,
    body?: unknown,
    expected = [200, 201],
  ): Promise<T> {
    const answer = await this.call<T>(who, method, path, body);
    if (!expected.includes(answer.status)) {
      throw new Error(
        `${method} ${path} as ${who} answered ${answer.status}: ${answer.text.slice(0, 400)}`,
      );
    }
    return answer.body;
  }

  /**
   * A power change as a bank makes it: `who` proposes (the route answers 202 with the proposal),
   * the second security officer approves; returns what the route answers on approval.
   */
  async proposeAndApprove<T>(
    who: Who,
    path: string,
    body: unknown,
    checker: Who = "secondOfficer",
  ): Promise<T> {
    const proposed = await this.ok<{ proposal: { id: string } }>(who, "POST", path, body, [202]);
    const approved = await this.ok<{ answer: T }>(
      checker,
      "POST",
      `proposals/${proposed.proposal.id}/approve`,
    );
    return approved.answer;
  }

  /**
   * Registers, identifies (identity card) and enables a person, as `admin`; enabling a bank's
   * own person is a proposal the second officer approves.
   */
  async enabledPerson(
    admin: Who,
    name: string,
    orgId: string,
    documentNumber: string,
  ): Promise<PersonView> {
    const created = await this.ok<PersonView>(admin, "POST", "people", { name, orgId });
    await this.ok(admin, "POST", `people/${created.id}/identify`, {
      documentType: "idCard",
      documentNumber,
    });
    const enabled = await this.ok<PersonView | { proposal: { id: string } }>(
      admin,
      "POST",
      `people/${created.id}/enable`,
      {},
      [200, 202],
    );
    if (!("proposal" in enabled)) return enabled;
    const approved = await this.ok<{ answer: PersonView }>(
      "secondOfficer",
      "POST",
      `proposals/${enabled.proposal.id}/approve`,
    );
    return approved.answer;
  }

  /** The admin log entries of the reader's organisation with `action`, oldest first. */
  async adminLog(reader: Who, action: string): Promise<AdminLogEntry[]> {
    const page = await this.ok<{ items: AdminLogEntry[] }>(
      reader,
      "GET",
      `admin-log?action=${encodeURIComponent(action)}&limit=100`,
    );
    return page.items;
  }

  /**
   * A technician's day: the security admin creates a one-time enrolment token for the
   * container over HTTP, the device generates its keys and enrols with it over HTTP, then starts
   * on a virtual board and connects to the fleet's broker (through a tap on the wire).
   */
  async enrolLock(containerId: string, admin: Who = "securityAdmin"): Promise<VirtualLock> {
    const { token } = await this.ok<{ token: string }>(admin, "POST", "enrolment-tokens", {
      containerId,
    });
    const dir = mkdtempSync(join(tmpdir(), "lockfleet-e2e-lock-"));
    this.#dirs.push(dir);
    const dataDir = join(dir, "data");
    const kek = new Uint8Array(randomBytes(32));
    const enrolled = await provision({
      fleetUrl: this.baseUrl,
      token,
      profile: virtualProfile.id,
      dataDir,
      kek,
    });
    const tap = await new MqttTap(this.fleet.app.hub.brokerUrl).listen();
    const board = createVirtualBoard(virtualProfile);
    const clock = new LockClock(() => this.now());
    let runtime: DeviceRuntime;
    try {
      runtime = await DeviceRuntime.start({
        dataDir,
        kek,
        clock,
        hardware: await openHardware(virtualProfile, { io: board.io }),
        mqtt: { url: tap.url, reconnectMinMs: 100, reconnectMaxMs: 500, keepaliveSec: 10 },
      });
    } catch (error) {
      board.close();
      await tap.close();
      throw error;
    }
    let stopped = false;
    const lock: VirtualLock = {
      deviceId: enrolled.deviceId,
      org: enrolled.org,
      dataDir,
      kek,
      board,
      runtime,
      clock,
      tap,
      audit: () => runtime.store.auditRange(1, runtime.store.auditHead().seq, 1_000_000),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await runtime.stop().catch(() => {});
        board.close();
        await tap.close();
      },
    };
    this.locks.push(lock);
    await runtime.waitOnline(10_000);
    await until(
      `lock ${lock.deviceId} online at the fleet`,
      () => this.fleet.app.hub.device(lock.deviceId)?.availability === "online",
    );
    return lock;
  }

  /** The lock's device signing key pair (what a thief who reads the device's key file holds). */
  signingKeyOf(lock: VirtualLock): { publicKey: Uint8Array; secretKey: Uint8Array; keyId: string } {
    const identity = readIdentity(lock.dataDir, lock.kek);
    return { ...identity.signing, keyId: identity.signingKeyId };
  }

  /**
   * The body of a device message `lock` published on `topic`, once its device signature is
   * verified with the lock's key (at the lock's own time of signing).
   */
  openedFrom(lock: VirtualLock, topic: string, payload: Buffer | string): unknown {
    const parsed = parseTopic(topic);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const text = payload.toString();
    const outcome = openDeviceMessage(text, {
      deviceId: lock.deviceId,
      topic: parsed.value.kind,
      publicKey: this.signingKeyOf(lock).publicKey,
      now: peekDeviceMessage(text)?.issuedAt ?? Date.now(),
    });
    if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
    return outcome.value.body;
  }

  /** The MQTT credentials the fleet issued to `lock` at enrolment (what a thief of the device would hold). */
  credentialsOf(lock: VirtualLock): { username: string; password: string } {
    const config = readConfig(lock.dataDir);
    return { username: config.broker.username, password: openPassword(config, lock.kek) };
  }

  async close(): Promise<void> {
    for (const lock of this.locks) await lock.stop();
    await this.fleet.close();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Keys for one code entry at the keypad: two-digit user id (slot), code, enter. */
export function entry(slot: number, code: string): string {
  return `${String(slot).padStart(2, "0")}${code}#`;
}
