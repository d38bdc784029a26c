/**
 * The silent-alarm output towards the alarm system: a Johnny-Five relay whose contacts close
 * for the profile's pulse time on each duress opening. Nothing local shows it.
 */
import type { SilentAlarmRelay } from "@lockfleet/hardware-profiles";
import { type J5Board, type J5Relay, johnnyFive } from "./johnny-five.js";
import { startRelayOpen } from "./relay-output.js";

export class SilentAlarmOutput {
  readonly #relay: J5Relay;
  #timer: NodeJS.Timeout | undefined;
  #pulses = 0;

  constructor(
    board: J5Board,
    private readonly output: SilentAlarmRelay,
  ) {
    const five = johnnyFive();
    this.#relay = new five.Relay({ board, pin: output.pin, type: output.activeLow ? "NC" : "NO" });
    startRelayOpen(board.io, this.#relay);
  }

  get pin(): number {
    return this.#relay.pin;
  }

  get closed(): boolean {
    return this.#relay.isClosed;
  }

  /** Pulses sent since start-up. */
  get pulses(): number {
    return this.#pulses;
  }

  pulse(): void {
    clearTimeout(this.#timer);
    this.#pulses += 1;
    this.#relay.close();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#relay.open();
    }, this.output.pulseMs);
  }

  /** A pulse under way still finishes: the alarm system must see all of it. */
  close(): void {}
}
