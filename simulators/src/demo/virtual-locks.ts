/**
 * The demo's locks: each one a virtual Johnny-Five board running the real edge device
 * runtime. A lock is enrolled the way a technician does it — the security admin creates a
 * one-time enrolment token for its container, the device generates its keys and enrols over
 * HTTP — and then talks MQTT to the fleet like any other lock.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeviceRuntime, openHardware, provision } from "@lockfleet/edge";
import { virtualProfile } from "@lockfleet/hardware-profiles";
import { createVirtualBoard, type VirtualBoard } from "../virtual-board/virtual-board.js";
import { DemoError, messageOf } from "./errors.js";
import type { FleetClient } from "./fleet-client.js";
import type { DemoLockPlan } from "./seed.js";

export interface DemoLock {
  plan: DemoLockPlan;
  deviceId: string;
  board: VirtualBoard;
  runtime: DeviceRuntime;
}

const KEK_FILE = "kek";

/** The key-encryption key the demo's locks seal their secrets under (one file, mode 0600). */
export function demoKek(locksDir: string): Uint8Array {
  mkdirSync(locksDir, { recursive: true, mode: 0o700 });
  const path = join(locksDir, KEK_FILE);
  if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600 });
  return new Uint8Array(readFileSync(path));
}

export function isEnrolled(lockDir: string): boolean {
  return existsSync(join(lockDir, "config.json")) && existsSync(join(lockDir, "identity.json"));
}

/** Enrols the lock of `plan` unless it is enrolled already; returns its device id. */
export async function enrolLock(
  plan: DemoLockPlan,
  context: {
    admin: FleetClient;
    fleetUrl: string;
    locksDir: string;
    kek: Uint8Array;
  },
): Promise<string> {
  const dataDir = join(context.locksDir, plan.name);
  if (isEnrolled(dataDir) && plan.deviceId !== undefined) return plan.deviceId;
  if (isEnrolled(dataDir)) {
    throw new DemoError(
      "E_DEMO_DATA",
      `${dataDir} holds an enrolled lock the demo has no record of; start with a new --data directory`,
    );
  }
  const { token } = await context.admin.post<{ token: string }>("enrolment-tokens", {
    containerId: plan.containerId,
  });
  try {
    const enrolled = await provision({
      fleetUrl: context.fleetUrl,
      token,
      profile: virtualProfile.id,
      dataDir,
      kek: context.kek,
    });
    return enrolled.deviceId;
  } catch (error) {
    throw new DemoError(
      "E_DEMO_ENROLMENT",
      `${plan.name} (${plan.container}): ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Starts an enrolled lock on a fresh virtual board, connected to the fleet's broker. */
export async function startLock(
  plan: DemoLockPlan,
  deviceId: string,
  context: { brokerUrl: string; locksDir: string; kek: Uint8Array },
): Promise<DemoLock> {
  const board = createVirtualBoard(virtualProfile);
  try {
    const hardware = await openHardware(virtualProfile, { io: board.io });
    const runtime = await DeviceRuntime.start({
      dataDir: join(context.locksDir, plan.name),
      kek: context.kek,
      hardware,
      mqtt: { url: context.brokerUrl, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    });
    return { plan, deviceId, board, runtime };
  } catch (error) {
    board.close();
    throw new DemoError(
      "E_DEMO_LOCK_START",
      `${plan.name} (${plan.container}): ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}
