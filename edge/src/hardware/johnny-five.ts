/**
 * The one place Johnny-Five is loaded (CONVENTIONS: it is CommonJS without types). The rest of
 * the hardware layer sees only the small typed surface declared here, so a Johnny-Five update
 * that changes what we use shows up in this file alone.
 */
import { createRequire } from "node:module";
import { HardwareError } from "./errors.js";

type Listener = (...args: unknown[]) => void;

/** What Johnny-Five and the hardware layer need from an IO plugin (raspi-io, Firmata, virtual). */
export interface IoPlugin {
  readonly name?: string;
  readonly isReady: boolean;
  readonly MODES: { readonly INPUT: number; readonly OUTPUT: number; readonly PWM: number };
  readonly HIGH: number;
  readonly LOW: number;
  normalize?(pin: number | string): number;
  pinMode(pin: number, mode: number): unknown;
  digitalWrite(pin: number, value: number): unknown;
  analogWrite(pin: number, value: number): unknown;
  digitalRead(pin: number, callback: (value: number) => void): unknown;
  i2cConfig(options: unknown): unknown;
  i2cReadOnce(address: number, length: number, callback: (bytes: number[]) => void): unknown;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
}

interface Emitting {
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
}

export interface J5Board extends Emitting {
  readonly isReady: boolean;
  readonly io: IoPlugin;
}

interface Component {
  /** The pin after the IO plugin's normalisation. */
  readonly pin: number;
}

export interface J5Switch extends Component, Emitting {
  /** True while the input reads its active level (see the `invert` option). */
  readonly isClosed: boolean;
}

export interface J5Relay extends Component {
  readonly isClosed: boolean;
  open(): void;
  close(): void;
}

export interface J5Motor {
  forward(speed: number): void;
  reverse(speed: number): void;
  stop(): void;
}

export interface J5KeypadEvent {
  type: string;
  which: Array<string | number>;
}

export interface J5Keypad {
  on(event: "press" | "down" | "hold" | "up", listener: (event: J5KeypadEvent) => void): unknown;
}

export interface J5Lcd {
  setCursor(col: number, row: number): J5Lcd;
  print(text: string, options?: { dontProcessSpecials?: boolean }): J5Lcd;
  clear(): J5Lcd;
  backlight(): J5Lcd;
}

interface BoardBound {
  board: J5Board;
}

export interface JohnnyFive {
  Board: (new (options: {
    io: IoPlugin;
    repl: false;
    debug: false;
    sigint: false;
    timeout?: number;
  }) => J5Board) & {
    /** Every board created, in Johnny-Five's module-wide cache. */
    readonly cache: J5Board[];
  };
  Switch: new (
    options: BoardBound & { pin: number | string; type: "NO" | "NC"; invert: boolean },
  ) => J5Switch;
  Relay: new (options: BoardBound & { pin: number | string; type: "NO" | "NC" }) => J5Relay;
  Motor: new (
    options: BoardBound & { pins: { pwm: number | string; dir: number | string } },
  ) => J5Motor;
  Keypad: new (
    options: BoardBound & { controller: string; address: number; keys: string[] },
  ) => J5Keypad;
  LCD: new (
    options: BoardBound & { controller: string; address: number; rows: number; cols: number },
  ) => J5Lcd;
}

let loaded: JohnnyFive | undefined;

/** Johnny-Five, loaded on first use (it pulls in a large module graph). */
export function johnnyFive(): JohnnyFive {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    loaded = require("johnny-five") as JohnnyFive;
  }
  return loaded;
}

/**
 * A Johnny-Five board over an IO plugin, resolved when ready. Johnny-Five emits `ready`
 * synchronously inside the plugin's own `ready` emit, so the listeners are attached before the
 * plugin can get there.
 */
export function connectBoard(io: IoPlugin, timeoutMs: number): Promise<J5Board> {
  const five = johnnyFive();
  return new Promise((resolve, reject) => {
    const board = new five.Board({
      io,
      repl: false,
      debug: false,
      sigint: false,
      timeout: timeoutMs,
    });
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new HardwareError(
          "E_HARDWARE_NOT_READY",
          `the ${io.name ?? "IO"} board did not report ready within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve(board);
    };
    const onError = (error: unknown): void => {
      cleanup();
      const reason = error instanceof Error ? error.message : String(error);
      reject(
        new HardwareError("E_HARDWARE_BOARD", `the ${io.name ?? "IO"} board failed: ${reason}`, {
          cause: error,
        }),
      );
    };
    function cleanup(): void {
      clearTimeout(timer);
      board.removeListener("ready", onReady);
      board.removeListener("error", onError);
    }
    board.once("ready", onReady);
    board.once("error", onError);
  });
}

/** Drops a closed board from Johnny-Five's module-wide cache, so that it can be collected. */
export function releaseBoard(board: J5Board): void {
  const cache = johnnyFive().Board.cache;
  const index = cache.indexOf(board);
  if (index >= 0) cache.splice(index, 1);
}
