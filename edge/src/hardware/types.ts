/**
 * What the device runtime needs from the lock hardware (contract between the hardware layer
 * and the runtime). Outputs are the lock core's `LockOutputs`; inputs arrive as events.
 */
import type { SelfTestReport } from "@lockfleet/protocol";
import type { BoltPosition, LockOutputs } from "../lock/ports.js";

export interface LockHardwareEvents {
  /** A keypad key: "0"–"9", "#" (enter) or "*" (clear). */
  key: (key: string) => void;
  /** Door contact, debounced. */
  door: (open: boolean) => void;
  /** Bolt position sensor, debounced. */
  bolt: (position: BoltPosition) => void;
  /** Housing tamper switch. */
  tamper: (active: boolean) => void;
  /** Optional power-fail input: true when mains failed and the device runs on its reserve. */
  powerFail: (failing: boolean) => void;
  /** The actuator was driven but the bolt sensor did not confirm within the actuator timeout. */
  boltJam: (expected: BoltPosition) => void;
  /**
   * A part failed while it was driven (an I2C device stopped answering, a pin write failed).
   * The output call that hit it returns normally — a duress opening must look the same even
   * when the silent-alarm output fails — so this event is where such failures surface.
   * `part` is a profile part name, or "board" when the IO board itself failed or lost its link.
   * `error` carries a stable code (E_HARDWARE_PART, E_HARDWARE_BOARD).
   */
  fault: (part: string, error: Error) => void;
}

export interface LockHardware extends LockOutputs {
  /** Profile id this hardware was opened with. */
  readonly profileId: string;
  on<K extends keyof LockHardwareEvents>(event: K, listener: LockHardwareEvents[K]): () => void;
  /** Current debounced inputs, for start-up (door open at boot, tamper active…). */
  readInputs(): {
    door: boolean;
    bolt: BoltPosition | "unknown";
    tamper: boolean;
    /** The power-fail input (true: mains failed); absent when the build has none. */
    powerFail?: boolean;
  };
  /** Exercises each part and reports per part (ok / fault / notFitted). */
  selfTest(deviceId: string): Promise<SelfTestReport>;
  close(): Promise<void>;
}
