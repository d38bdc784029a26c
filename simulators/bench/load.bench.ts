/**
 * The load generator against a fleet process and against Mosquitto: time for 2,000 simulated
 * locks to come online (connected, subscribed, retained state and availability published; at
 * the fleet also: seen online by its device hub), then a few seconds of audit records and
 * commands — messages per second and command latencies. The locks run in this process next
 * to the fleet (buildApp with its embedded aedes broker, HTTP enrolment, port 0), so both
 * share the machine's cores; Mosquitto is the external broker at 127.0.0.1:1883. The fleet's
 * SQLite lives on tmpfs where there is one (enrolment set-up only; it is not measured).
 *
 * LOCKFLEET_BENCH_SIM_LOCKS sets the number of locks (default 2000).
 */
import { existsSync } from "node:fs";
import { createFixture } from "../../fleet/test/fixtures.js";
import { recordFigure } from "../../scripts/bench-figures.js";
import { service } from "../../test-support/services.js";
import { formatReport } from "../src/load/command.js";
import { enrolmentClaim, enrolSimulatedLocks } from "../src/load/enrol.js";
import { LoadGenerator, type LoadReport } from "../src/load/load-generator.js";

const LOCKS = Number(process.env.LOCKFLEET_BENCH_SIM_LOCKS ?? 2000);
const DRIVE_MS = 3000;
const RATE = 500;
/** Enrolled over HTTP for the figure; the rest (set-up, not measured) through the hub directly. */
const HTTP_ENROLMENTS = Math.min(LOCKS, 100);

/** The load generator's figures for the report, named after the broker they ran against. */
function record(broker: string, report: LoadReport): void {
  const name = `load generator, ${broker}, ${LOCKS} locks`;
  recordFigure(`${name}: connect`, "s", report.connect.ms / 1000, "lower");
  recordFigure(`${name}: messages`, "msg/s", report.messagesPerSecond, "higher");
  const roundTrip = report.roundTrip?.ms;
  if (roundTrip !== undefined)
    recordFigure(`${name}: command round trip p99`, "ms", roundTrip.p99, "lower");
}

function print(label: string, lines: string[]): void {
  console.log(`load generator, ${label}:`);
  for (const line of lines) console.log(`  ${line}`);
}

async function againstFleet(): Promise<void> {
  // The fleet's SQLite on tmpfs: enrolment (four synchronous commits per lock) is set-up here,
  // not what is measured, and must not eat the bench's minute on a busy disk.
  const tmp = process.env.TMPDIR;
  if (existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";
  const fixture = await createFixture({
    app: { hubOptions: { timeSyncIntervalMs: 0, offlineGraceMs: 10 * 60_000 } },
  });
  if (tmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmp;
  // The fixture's clock stands still unless moved; here it follows the wall clock.
  const ticking = setInterval(() => fixture.clock.set(Date.now()), 5);
  try {
    const fleetUrl = await fixture.app.listen({ port: 0, host: "127.0.0.1" });
    let started = performance.now();
    const overHttp = await enrolSimulatedLocks({
      fleetUrl,
      apiToken: fixture.tokens.securityAdmin,
      containerId: fixture.container.id,
      count: HTTP_ENROLMENTS,
      concurrency: 16,
    });
    const enrolMs = performance.now() - started;
    // The rest through the hub's own enrolment (token, proof, credentials) without HTTP.
    const enrolled = { brokerUrl: overHttp.brokerUrl, locks: [...overHttp.locks] };
    started = performance.now();
    const { hub } = fixture.app;
    for (let i = HTTP_ENROLMENTS; i < LOCKS; i++) {
      const { token } = hub.createEnrolmentToken({
        orgId: fixture.bank.id,
        containerId: fixture.container.id,
        ttlMs: 600_000,
        createdBy: fixture.accounts.securityAdmin.person.id,
      });
      const claim = enrolmentClaim(token);
      enrolled.locks.push(claim.accept(await hub.enrol(claim.request)).identity);
    }
    const hubEnrolMs = performance.now() - started;
    const waiting = new Set(enrolled.locks.map((lock) => lock.deviceId));
    let hubSawAllAt: number | undefined;
    fixture.app.hub.on("availability", (deviceId: string, status: string) => {
      if (status === "online" && waiting.delete(deviceId) && waiting.size === 0) {
        hubSawAllAt = performance.now();
      }
    });
    const generator = new LoadGenerator({
      brokerUrl: enrolled.brokerUrl,
      locks: enrolled.locks,
      rate: RATE,
    });
    try {
      started = performance.now();
      await generator.connect();
      const deadline = performance.now() + 30_000;
      while (hubSawAllAt === undefined && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const report = await generator.drive(DRIVE_MS);
      record("fleet process", report);
      print(`fleet process (buildApp, embedded aedes), ${LOCKS} enrolled locks`, [
        `enrolment over HTTP: ${((HTTP_ENROLMENTS * 1000) / enrolMs).toFixed(0)} locks/s (${HTTP_ENROLMENTS} locks); in-process through the hub: ${(((LOCKS - HTTP_ENROLMENTS) * 1000) / hubEnrolMs).toFixed(0)} locks/s`,
        hubSawAllAt === undefined
          ? `fleet hub saw ${LOCKS - waiting.size}/${LOCKS} online within 30 s`
          : `all online as seen by the fleet hub: ${((hubSawAllAt - started) / 1000).toFixed(2)} s`,
        ...formatReport(report),
      ]);
    } finally {
      await generator.stop();
    }
  } finally {
    clearInterval(ticking);
    await fixture.close();
  }
}

async function againstMosquitto(): Promise<void> {
  const mosquitto = await service.mosquitto();
  if (!mosquitto.available) {
    console.log(`load generator, Mosquitto: ${mosquitto.reason}`);
    return;
  }
  const generator = new LoadGenerator({
    brokerUrl: mosquitto.url,
    locks: { count: LOCKS },
    rate: RATE,
    commandRate: 200,
  });
  try {
    await generator.connect();
    const report = await generator.drive(DRIVE_MS);
    record("Mosquitto", report);
    print(`Mosquitto 127.0.0.1:1883 (no authentication), ${LOCKS} locks`, formatReport(report));
  } finally {
    await generator.stop();
  }
}

export async function run(): Promise<void> {
  await againstFleet();
  await againstMosquitto();
}
