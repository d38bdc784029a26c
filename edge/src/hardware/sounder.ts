/**
 * The local sounder: an active buzzer switched on and off, or a passive piezo driven with a
 * 50 % PWM square wave (a Firmata board cannot bit-bang tones over its serial link; the PWM
 * carrier sounds the piezo at the board's PWM frequency). Each lock sound is a fixed pattern.
 */
import type { Buzzer } from "@lockfleet/hardware-profiles";
import type { BuzzerSound } from "../lock/ports.js";
import type { IoPlugin } from "./johnny-five.js";
import { pinNumber } from "./pins.js";

/** On/off steps in milliseconds, starting with "on". */
export const SOUND_PATTERNS: Record<Exclude<BuzzerSound, "off" | "alarm">, readonly number[]> = {
  key: [40],
  accept: [80, 60, 80],
  reject: [600],
  release: [150, 100, 150, 100, 150],
};

export class Sounder {
  readonly #pin: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #on = false;

  constructor(
    private readonly io: IoPlugin,
    private readonly buzzer: Buzzer,
    private readonly alarmSoundMs: number,
  ) {
    this.#pin = pinNumber(io, buzzer.pin);
    io.pinMode(this.#pin, buzzer.kind === "piezo" ? io.MODES.PWM : io.MODES.OUTPUT);
    this.#set(false);
  }

  get pin(): number {
    return this.#pin;
  }

  get sounding(): boolean {
    return this.#on;
  }

  play(sound: BuzzerSound): void {
    this.#cancel();
    if (sound === "off") return;
    if (sound === "alarm") {
      this.#set(true);
      this.#after(this.alarmSoundMs, () => this.#set(false));
      return;
    }
    let at = 0;
    SOUND_PATTERNS[sound].forEach((duration, step) => {
      const on = step % 2 === 0;
      this.#after(at, () => this.#set(on));
      at += duration;
    });
    this.#after(at, () => this.#set(false));
  }

  #after(ms: number, action: () => void): void {
    if (ms === 0) {
      action();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, ms);
    this.#timers.add(timer);
  }

  #set(on: boolean): void {
    this.#on = on;
    if (this.buzzer.kind === "piezo") this.io.analogWrite(this.#pin, on ? 128 : 0);
    else this.io.digitalWrite(this.#pin, on ? this.io.HIGH : this.io.LOW);
  }

  #cancel(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#set(false);
  }

  close(): void {
    this.#cancel();
  }
}
