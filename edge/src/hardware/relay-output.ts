/**
 * Puts a relay pin into output mode without a glitch towards the active level: the idle level
 * is latched first (on a Firmata board that only sets the pull-up), then the pin becomes an
 * output, then the idle level is written again. An active-low relay module would otherwise
 * energise for a moment at start-up — retracting the bolt or pulsing the silent alarm.
 */
import type { IoPlugin, J5Relay } from "./johnny-five.js";

export function startRelayOpen(io: IoPlugin, relay: J5Relay): void {
  relay.open();
  io.pinMode(relay.pin, io.MODES.OUTPUT);
  relay.open();
}
