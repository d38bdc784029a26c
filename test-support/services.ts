/**
 * Tests that need a service already running on the machine (Mosquitto, PostgreSQL) or a
 * program installed on it (Chromium). With CI=true a missing service fails the test run; on
 * a laptop without it the tests skip with a visible reason.
 *
 *   const mosquitto = await service.mosquitto();
 *   describe.skipIf(!mosquitto.available)(`against Mosquitto ${mosquitto.reason}`, () => …);
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";

export interface ServiceCheck {
  available: boolean;
  /** Empty when available; otherwise why the tests skip, shown in the test name. */
  reason: string;
}

const inCi = process.env.CI === "true";

function decide(name: string, available: boolean, why: string): ServiceCheck {
  if (available) return { available, reason: "" };
  if (inCi) throw new Error(`E_SERVICE_MISSING: CI=true and ${name} is not available: ${why}`);
  const reason = `(skipped: ${name} not available here: ${why})`;
  console.warn(reason);
  return { available, reason };
}

function tcpReachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

export const service = {
  async mosquitto(): Promise<ServiceCheck & { url: string }> {
    const ok = await tcpReachable("127.0.0.1", 1883);
    return {
      ...decide("Mosquitto", ok, "nothing listens on 127.0.0.1:1883"),
      url: "mqtt://127.0.0.1:1883",
    };
  },
  async postgres(): Promise<ServiceCheck & { url: string }> {
    const ok = await tcpReachable("127.0.0.1", 5432);
    return {
      ...decide("PostgreSQL", ok, "nothing listens on 127.0.0.1:5432"),
      url: process.env.LOCKFLEET_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test",
    };
  },
  /**
   * The Mosquitto program with its dynamic-security plugin and `mosquitto_ctrl` (Debian's
   * mosquitto package), for tests that start a Mosquitto of their own on a free port.
   */
  mosquittoProgram(): ServiceCheck & { broker: string; ctrl: string; dynsecPlugin: string } {
    const programs = {
      broker: process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto",
      ctrl: process.env.MOSQUITTO_CTRL_PATH ?? "/usr/bin/mosquitto_ctrl",
      dynsecPlugin:
        process.env.MOSQUITTO_DYNSEC_PLUGIN ??
        "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    };
    const missing = Object.values(programs).filter((path) => !existsSync(path));
    return {
      ...decide(
        "the Mosquitto program",
        missing.length === 0,
        `${missing.join(", ")} missing (apt-get install -y mosquitto)`,
      ),
      ...programs,
    };
  },
  chromium(): ServiceCheck & { path: string } {
    return {
      ...decide(
        "Chromium",
        existsSync(CHROMIUM_PATH),
        `${CHROMIUM_PATH} does not exist (apt-get install -y chromium)`,
      ),
      path: CHROMIUM_PATH,
    };
  },
};
