/**
 * Real processes for the fault tests: a fleet (buildApp on port 0, its embedded broker) and
 * simulated locks, each `lockfleet-sim lock … --auto-open` through the real launcher in a
 * process of its own — killed with real signals, restarted on the same data directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AuditRecord, LockState } from "@lockfleet/protocol";
import { DEFAULT_LOCK_POLICY, type LockPolicy } from "@lockfleet/protocol";
import { createFixture, type Fixture } from "../../../fleet/test/fixtures.js";

export const SIM_LAUNCHER = fileURLToPath(new URL("../../bin/lockfleet-sim.js", import.meta.url));
export const FLEET_LAUNCHER = fileURLToPath(
  new URL("../../../fleet/bin/lockfleet-fleet.js", import.meta.url),
);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** `until` for a probe that has to ask over the network. */
export async function untilAsync<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** The fleet in this process and what it heard from each lock. */
export class TestFleet {
  readonly audit = new Map<string, AuditRecord[]>();
  readonly states = new Map<string, LockState[]>();
  private constructor(
    readonly fixture: Fixture,
    readonly url: string,
  ) {
    fixture.app.hub.on("audit", (deviceId: string, records: AuditRecord[]) => {
      this.audit.set(deviceId, [...(this.audit.get(deviceId) ?? []), ...records]);
    });
    fixture.app.hub.on("state", (deviceId: string, state: LockState) => {
      this.states.set(deviceId, [...(this.states.get(deviceId) ?? []), state]);
    });
  }

  static async start(options: { timeSyncIntervalMs?: number } = {}): Promise<TestFleet> {
    const fixture = await createFixture({
      app: { hubOptions: { timeSyncIntervalMs: options.timeSyncIntervalMs ?? 0 } },
    });
    const url = await fixture.app.listen({ port: 0, host: "127.0.0.1" });
    return new TestFleet(fixture, url);
  }

  /** A container of the bank with this policy (e.g. a short time delay). */
  container(policy: Partial<LockPolicy> = {}): string {
    const { fixture } = this;
    return fixture.app.repos.orgs.createContainer({
      orgId: fixture.bank.id,
      branchId: fixture.container.branchId,
      name: `Safe ${Math.random().toString(36).slice(2, 7)}`,
      type: "safe",
      grade: "IV",
      lockClass: "C",
      policy: { ...DEFAULT_LOCK_POLICY, ...policy },
    }).id;
  }

  async enrolmentToken(containerId: string): Promise<string> {
    const issued = await fetch(new URL("/api/v1/enrolment-tokens", this.url), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${this.fixture.tokens.securityAdmin}`,
      },
      body: JSON.stringify({ containerId }),
    });
    if (!issued.ok) throw new Error(`enrolment token: ${issued.status} ${await issued.text()}`);
    return ((await issued.json()) as { token: string }).token;
  }

  records(deviceId: string): AuditRecord[] {
    return this.audit.get(deviceId) ?? [];
  }

  alarms(deviceId: string) {
    return this.fixture.app.alarms.list(
      { kind: "bank", orgId: this.fixture.bank.id },
      { deviceId },
      { limit: 100 },
    ).items;
  }

  async close(): Promise<void> {
    await this.fixture.close();
  }
}

/** One `lockfleet-sim lock` process. */
export class SimLock {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  /** `nodeArgs` go before the launcher (a clock preload, inherited by the device process). */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, SIM_LAUNCHER, "lock", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const collect = (stream: NodeJS.ReadableStream | null, into: string[]) => {
      let rest = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        into.push(...lines);
      });
    };
    collect(this.child.stdout, this.stdout);
    collect(this.child.stderr, this.stderr);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get deviceId(): string | undefined {
    for (const line of this.stdout) {
      const id = /^lock (lock-[0-9a-z-]+) started/.exec(line)?.[1];
      if (id !== undefined) return id;
    }
    return undefined;
  }

  waitForLine(pattern: RegExp, timeoutMs = 60_000, stream: "stdout" | "stderr" = "stdout") {
    return until(
      `${stream} line ${pattern}`,
      () => this[stream].find((line) => pattern.test(line)),
      timeoutMs,
    );
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
