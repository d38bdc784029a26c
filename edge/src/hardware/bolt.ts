/**
 * The bolt: its actuator (a relay switching a hold-retracted solenoid or motor circuit, or a
 * DC motor on an H-bridge) and its position sensor. Every drive must be confirmed by the
 * sensor within the profile's timeout, or the bolt counts as jammed.
 */
import {
  type BoltActuator,
  type DigitalInput,
  type HardwareTimings,
  relayRetractLevel,
} from "@lockfleet/hardware-profiles";
import type { BoltPosition } from "../lock/ports.js";
import { SwitchInput } from "./inputs.js";
import { type J5Board, type J5Motor, type J5Relay, johnnyFive } from "./johnny-five.js";
import { startRelayOpen } from "./relay-output.js";

export interface BoltEvents {
  position(position: BoltPosition): void;
  jam(expected: BoltPosition): void;
}

export class Bolt {
  readonly sensor: SwitchInput;
  readonly #relay: J5Relay | undefined;
  readonly #motor: J5Motor | undefined;
  readonly #actuator: BoltActuator;
  readonly #timings: HardwareTimings;
  readonly #events: BoltEvents;
  #expected: BoltPosition | undefined;
  #jamTimer: NodeJS.Timeout | undefined;
  #motorTimer: NodeJS.Timeout | undefined;
  #confirmWaiters: Array<() => void> = [];

  constructor(
    board: J5Board,
    actuator: BoltActuator,
    sensor: DigitalInput,
    timings: HardwareTimings,
    events: BoltEvents,
  ) {
    const five = johnnyFive();
    this.#actuator = actuator;
    this.#timings = timings;
    this.#events = events;
    this.sensor = new SwitchInput(board, sensor, timings.debounceMs);
    if (actuator.kind === "relay") {
      // Johnny-Five's relay "close()" writes HIGH, or LOW for its "NC" type.
      const relay = new five.Relay({
        board,
        pin: actuator.pin,
        type: relayRetractLevel(actuator) === 1 ? "NO" : "NC",
      });
      startRelayOpen(board.io, relay); // fail-secure: the bolt stays thrown until the core asks
      this.#relay = relay;
    } else {
      const motor = new five.Motor({ board, pins: { pwm: actuator.pwmPin, dir: actuator.dirPin } });
      motor.stop();
      this.#motor = motor;
    }
    this.sensor.onChange((thrown) => this.#sensed(thrown ? "thrown" : "retracted"));
  }

  get position(): BoltPosition | "unknown" {
    const thrown = this.sensor.active;
    return thrown === undefined ? "unknown" : thrown ? "thrown" : "retracted";
  }

  /** Where the actuator was last driven; undefined before the first drive. */
  get expected(): BoltPosition | undefined {
    return this.#expected;
  }

  /** True while the relay holds the actuator circuit closed (bolt held retracted). */
  get circuitClosed(): boolean {
    return this.#relay?.isClosed ?? false;
  }

  drive(position: BoltPosition): void {
    this.#expected = position;
    clearTimeout(this.#jamTimer);
    this.#jamTimer = undefined;
    if (this.position === position) {
      this.#actuate(position);
      this.#confirmed();
      return;
    }
    // The timer runs before the actuator is touched, so a drive that throws still ends in a jam.
    this.#jamTimer = setTimeout(() => {
      this.#jamTimer = undefined;
      this.#stopMotor();
      if (this.position !== position) this.#events.jam(position);
    }, this.#timings.boltSensorTimeoutMs);
    this.#actuate(position);
  }

  /** Drives and resolves true once the sensor confirms, false at the actuator timeout. */
  driveAndConfirm(position: BoltPosition): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve(this.position === position),
        this.#timings.boltSensorTimeoutMs + 20,
      );
      this.#confirmWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.position === position);
      });
      this.drive(position);
    });
  }

  #actuate(position: BoltPosition): void {
    const actuator = this.#actuator;
    if (this.#relay !== undefined) {
      if (position === "retracted") this.#relay.close();
      else this.#relay.open();
      return;
    }
    if (this.#motor === undefined || actuator.kind !== "motor") return;
    this.#stopMotor();
    const retractForward = actuator.retractDirection === "high";
    // Johnny-Five's forward() drives the direction pin HIGH.
    if ((position === "retracted") === retractForward) this.#motor.forward(actuator.speed);
    else this.#motor.reverse(actuator.speed);
    this.#motorTimer = setTimeout(() => this.#stopMotor(), actuator.runMs);
  }

  #stopMotor(): void {
    clearTimeout(this.#motorTimer);
    this.#motorTimer = undefined;
    this.#motor?.stop();
  }

  #sensed(position: BoltPosition): void {
    this.#events.position(position);
    if (position === this.#expected) this.#confirmed();
  }

  #confirmed(): void {
    clearTimeout(this.#jamTimer);
    this.#jamTimer = undefined;
    this.#stopMotor();
    const waiters = this.#confirmWaiters;
    this.#confirmWaiters = [];
    for (const waiter of waiters) waiter();
  }

  close(): void {
    clearTimeout(this.#jamTimer);
    this.#jamTimer = undefined;
    this.#stopMotor();
    this.sensor.close();
  }
}
