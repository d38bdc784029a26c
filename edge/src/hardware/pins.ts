/** Pin names of a profile as the IO plugin numbers them, for the parts that talk to the plugin directly. */
import type { PinName } from "@lockfleet/hardware-profiles";
import { HardwareError } from "./errors.js";
import type { IoPlugin } from "./johnny-five.js";

export function pinNumber(io: IoPlugin & { analogPins?: number[] }, pin: PinName): number {
  if (typeof io.normalize === "function") return io.normalize(pin);
  if (typeof pin === "number") return pin;
  const analog = /^A(\d+)$/.exec(pin);
  const mapped = analog?.[1] === undefined ? undefined : io.analogPins?.[Number(analog[1])];
  if (mapped !== undefined) return mapped;
  const digits = /^\d+$/.test(pin) ? Number(pin) : Number.NaN;
  if (Number.isInteger(digits)) return digits;
  throw new HardwareError(
    "E_PROFILE_SCHEMA",
    `pin ${JSON.stringify(pin)} is unknown to the ${io.name ?? "IO"} plugin`,
  );
}
