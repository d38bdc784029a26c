/**
 * `lockfleet-sim demo` options. Defaults bring the dashboard up on http://127.0.0.1:8080; the
 * embedded broker listens on 1884 so that a Mosquitto already running on 1883 does not stop
 * the demo.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DemoError } from "./errors.js";

export interface DemoOptions {
  /** HTTP port of the fleet (API and dashboard); 0 picks a free one. */
  port: number;
  /** Port of the embedded MQTT broker the virtual locks connect to; 0 picks a free one. */
  mqttPort: number;
  /** Address both listen on. */
  host: string;
  /** Holds the fleet's database, the virtual locks' data directories and the demo logins. */
  dataDir: string;
  /** Time delay of the demo containers, minutes (0–99). */
  timeDelayMin: number;
  /** Confirmation window of the demo containers, minutes (1–19). */
  confirmationWindowMin: number;
  /** Run the scripted story (CIT window, crew opening); false only brings the fleet and locks up. */
  story: boolean;
  /** How long the crew keeps the door open in the story, seconds. */
  doorOpenSec: number;
  /** After the story, bank staff open another container this often, seconds; 0: never. */
  routineSec: number;
}

export const DEFAULT_DEMO_OPTIONS: DemoOptions = {
  port: 8080,
  mqttPort: 1884,
  host: "127.0.0.1",
  dataDir: ".data/demo",
  timeDelayMin: 1,
  confirmationWindowMin: 3,
  story: true,
  doorOpenSec: 20,
  routineSec: 90,
};

export const DEMO_USAGE =
  "demo [--port 8080] [--mqtt-port 1884] [--data .data/demo] [--host 127.0.0.1] [--time-delay-min 1] [--confirmation-window-min 3] [--door-open-sec 20] [--routine-sec 90] [--no-story]";

function integer(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new DemoError(
      "E_USAGE",
      `--${name} must be a whole number from ${min} to ${max}, not "${text}"`,
    );
  }
  return Number(text);
}

export function parseDemoArgs(args: readonly string[]): DemoOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new DemoError("E_USAGE", error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new DemoError("E_USAGE", `unexpected argument "${positionals[0]}"`);
  }
  const d = DEFAULT_DEMO_OPTIONS;
  return {
    port: integer("port", values.port, 0, 65535) ?? d.port,
    mqttPort: integer("mqtt-port", values["mqtt-port"], 0, 65535) ?? d.mqttPort,
    host: values.host ?? d.host,
    dataDir: resolve(values.data ?? d.dataDir),
    timeDelayMin: integer("time-delay-min", values["time-delay-min"], 0, 99) ?? d.timeDelayMin,
    confirmationWindowMin:
      integer("confirmation-window-min", values["confirmation-window-min"], 1, 19) ??
      d.confirmationWindowMin,
    story: values["no-story"] !== true,
    doorOpenSec: integer("door-open-sec", values["door-open-sec"], 1, 600) ?? d.doorOpenSec,
    routineSec: integer("routine-sec", values["routine-sec"], 0, 86_400) ?? d.routineSec,
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      port: { type: "string" },
      "mqtt-port": { type: "string" },
      host: { type: "string" },
      data: { type: "string" },
      "time-delay-min": { type: "string" },
      "confirmation-window-min": { type: "string" },
      "door-open-sec": { type: "string" },
      "routine-sec": { type: "string" },
      "no-story": { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
}
