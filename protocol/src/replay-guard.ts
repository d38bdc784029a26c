import { protocolError } from "./errors.js";
/**
 * Replay protection: every sender's envelopes carry a strictly increasing `seq`; a receiver
 * keeps the highest one it accepted and refuses anything at or below it.
 */
export interface ReplayGuard {
  /** Highest seq accepted from `sender`, 0 when none yet. */
  highest(sender: string): number;
  /** Records `seq` as accepted; a persistent guard must write it durably before returning. */
  accept(sender: string, seq: number): void;
}

export class MemoryReplayGuard implements ReplayGuard {
  readonly #highest = new Map<string, number>();

  highest(sender: string): number {
    return this.#highest.get(sender) ?? 0;
  }

  accept(sender: string, seq: number): void {
    if (seq <= this.highest(sender)) {
      throw protocolError(
        "E_REPLAY",
        `seq ${seq} from ${sender} is not above ${this.highest(sender)}`,
      );
    }
    this.#highest.set(sender, seq);
  }
}
