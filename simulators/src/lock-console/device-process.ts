/**
 * The lock device process of the lock console: the real edge device runtime on the virtual
 * Johnny-Five board through the real hardware layer. It enrols at a fleet with a one-time
 * token (or sets up a bench-top lock) when its data directory is new, then applies what the
 * console's person does (keys, door, tamper, a stuck bolt) to the board and reports what the
 * lock shows and logs. Killing this process is the console's power cut.
 */
import {
  DeviceRuntime,
  isProvisioned,
  jsonLog,
  type LockHardware,
  openHardware,
  provision,
  resolveProfile,
} from "@lockfleet/edge";
import type { HardwareProfile } from "@lockfleet/hardware-profiles";
import { SimulatorError } from "../errors.js";
import { createVirtualBoard, type VirtualBoard } from "../virtual-board/virtual-board.js";
import { startAutoOpen } from "./auto-open.js";
import { BENCH_USERS, consoleKek, isBenchTop, setUpBenchTop } from "./bench-top.js";
import type { ConsoleToDevice, DeviceStartOptions, DeviceToConsole, LockView } from "./messages.js";

const VIEW_POLL_MS = 50;

let runtime: DeviceRuntime | undefined;
let board: VirtualBoard | undefined;
let lastView = "";
let viewTimer: NodeJS.Timeout | undefined;
/** A bench-top lock has no fleet link. */
let bench = false;
let stopped = false;
let stopAutoOpen: (() => void) | undefined;
/** Records of this power-up written before the console listened (boot, power loss). */
const EARLIER_RECORDS_SHOWN = 50;

function send(message: DeviceToConsole): void {
  process.send?.(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function start(options: DeviceStartOptions): Promise<void> {
  resolveProfile(options.profile); // an unknown profile is named before anything is written
  const kek = consoleKek(options.dataDir);
  let enrolled = false;
  if (!isProvisioned(options.dataDir)) {
    if (options.fleet !== undefined) {
      await provision({
        fleetUrl: options.fleet.url,
        token: options.fleet.token,
        profile: options.profile,
        dataDir: options.dataDir,
        kek,
      });
      enrolled = true;
    } else {
      setUpBenchTop(options.dataDir, options.profile, kek);
    }
  }
  bench = isBenchTop(options.dataDir);
  const open = async (profile: HardwareProfile): Promise<LockHardware> => {
    board = createVirtualBoard(profile);
    // The world as the lock finds it at power-up.
    board.setDoor(options.world.door);
    board.setTamper(options.world.tamper);
    board.jamBolt(options.world.jammed);
    return openHardware(profile, { io: board.io });
  };
  runtime = await DeviceRuntime.start({
    dataDir: options.dataDir,
    kek,
    profile: options.profile,
    hardware: open,
    // A lock running on its own logs as a device does (warnings and errors, JSON lines on stderr).
    ...(options.autoOpenMs === undefined
      ? {}
      : { log: jsonLog({ level: "warn", write: (line) => process.stderr.write(line) }) }),
    // The simulator users open an auto-opening lock; a bench-top lock gets them always.
    ...(bench || options.autoOpenMs !== undefined
      ? { firstStart: { users: [...BENCH_USERS] } }
      : {}),
    mqtt: bench
      ? { enabled: false }
      : {
          reconnectMinMs: 200,
          reconnectMaxMs: 2000,
          ...(options.brokerUrl === undefined ? {} : { url: options.brokerUrl }),
        },
  });
  const started = runtime;
  started.core.on("audit", (records) => send({ op: "audit", records }));
  // This power-up's records so far (from its device.started on), which the console has not shown.
  const head = started.store.auditHead().seq;
  const recent = started.store.auditRange(Math.max(1, head - EARLIER_RECORDS_SHOWN + 1), head);
  const bootIndex = recent.map((record) => record.kind).lastIndexOf("device.started");
  const boot = recent
    .slice(Math.max(0, bootIndex))
    .filter((record) => record.seq > options.shownSeq);
  if (boot.length > 0) send({ op: "audit", records: boot });
  send({
    op: "started",
    deviceId: started.deviceId,
    org: started.org,
    mode: bench ? "bench" : "fleet",
    enrolled,
    cleanStart: started.store.previousShutdownWasClean,
  });
  viewTimer = setInterval(reportView, VIEW_POLL_MS);
  reportView();
  if (options.autoOpenMs !== undefined && board !== undefined) {
    stopAutoOpen = startAutoOpen(started, board, {
      intervalMs: options.autoOpenMs,
      note: (text) => send({ op: "note", text }),
    });
  }
}

function reportView(): void {
  if (runtime === undefined || board === undefined || stopped) return;
  const state = runtime.core.state(runtime.org);
  const view: LockView = {
    lcd: board.lcdLines(),
    bolt:
      state.bolt === board.boltPosition()
        ? state.bolt
        : `${state.bolt} (mechanically ${board.boltPosition()})`,
    door: state.door,
    buzzer: board.buzzerOn(),
    silentAlarmPulses: board.silentAlarmPulses(),
    cycle: state.cycle.phase,
    fleet: bench ? "none" : runtime.online ? "online" : "offline",
  };
  const text = JSON.stringify(view);
  if (text === lastView) return;
  lastView = text;
  send({ op: "view", view });
}

async function apply(message: Exclude<ConsoleToDevice, { op: "start" }>): Promise<void> {
  const lockBoard = board;
  const lock = runtime;
  if (lockBoard === undefined || lock === undefined) {
    throw new SimulatorError("E_LOCK_NOT_STARTED", "the lock has not started");
  }
  switch (message.op) {
    case "key":
      await lockBoard.pressKey(message.key);
      return;
    case "door":
      lockBoard.setDoor(message.open);
      return;
    case "tamper":
      lockBoard.setTamper(message.active);
      return;
    case "jam":
      lockBoard.jamBolt(message.jammed);
      return;
    case "selfTest":
      send({ op: "selfTest", report: await lock.selfTest() });
      return;
    case "stop":
      stopped = true;
      stopAutoOpen?.();
      if (viewTimer !== undefined) clearInterval(viewTimer);
      await lock.stop();
      lockBoard.close();
      return;
  }
}

// The console is this lock's power: when it goes (killed, crashed), so does the lock, at once
// and without a clean shutdown, as in a power cut. A lock process never outlives its console.
process.on("disconnect", () => {
  if (!stopped) process.exit(1);
});

process.on("message", (message: ConsoleToDevice) => {
  if (message.op === "start") {
    start(message.options).catch((error: unknown) => {
      send({ op: "failed", message: messageOf(error) });
    });
    return;
  }
  apply(message).then(
    () => {
      reportView();
      send({ op: "done", id: message.id });
      if (message.op === "stop") process.disconnect();
    },
    (error: unknown) => send({ op: "done", id: message.id, error: messageOf(error) }),
  );
});
