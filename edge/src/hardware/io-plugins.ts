/**
 * The IO plugin a profile names, loaded only when that profile is used: raspi-io is an
 * optional dependency that installs only on ARM, and the Firmata client needs the serialport
 * package's native binding. A missing one is a clear error, never a silent fallback.
 */
import { createRequire } from "node:module";
import type { IoPlugin as ProfileIo } from "@lockfleet/hardware-profiles";
import { HardwareError } from "./errors.js";
import type { IoPlugin } from "./johnny-five.js";

type IoConstructor = new (options: unknown) => IoPlugin;

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split("\n")[0] ?? message;
  return first.replace(/\. Tried:$/, "").replace(/ Tried:$/, "");
}

/** Creates the IO plugin for a Raspberry Pi or Firmata profile. */
export function createIoPlugin(io: ProfileIo): IoPlugin {
  const require = createRequire(import.meta.url);
  switch (io.plugin) {
    case "virtual":
      throw new HardwareError(
        "E_HARDWARE_IO_REQUIRED",
        "a virtual profile runs on the simulators' virtual board: pass it as { io } (createVirtualBoard(profile).io)",
      );
    case "raspi-io": {
      let RaspiIO: IoConstructor;
      try {
        ({ RaspiIO } = require("raspi-io") as { RaspiIO: IoConstructor });
      } catch (error) {
        throw new HardwareError(
          "E_HARDWARE_IO_UNAVAILABLE",
          `raspi-io could not be loaded (${reason(error)}); it is an optional dependency of @lockfleet/edge that installs only on a Raspberry Pi (ARM Linux): run npm install on the device itself`,
          { cause: error },
        );
      }
      return new RaspiIO({ enableSerial: false });
    }
    case "firmata": {
      try {
        // Loaded first on its own: the Firmata client swallows this failure and only prints it.
        require("serialport");
      } catch (error) {
        throw new HardwareError(
          "E_HARDWARE_SERIALPORT_UNAVAILABLE",
          `the serialport package needed for the Firmata board on ${io.port} has no native binding on this machine (${reason(error)}); install it with its build scripts allowed (npm install serialport --foreground-scripts) on the device`,
          { cause: error },
        );
      }
      let Firmata: IoConstructor;
      try {
        Firmata = require("firmata") as IoConstructor;
      } catch (error) {
        throw new HardwareError(
          "E_HARDWARE_IO_UNAVAILABLE",
          `the Firmata client (package firmata) could not be loaded: ${reason(error)}`,
          { cause: error },
        );
      }
      return new Firmata(io.port);
    }
  }
}
