/**
 * What the 2×16 character display shows. A duress opening must look exactly like a normal
 * one, so no text here may depend on whether a code was a duress code.
 */
export const DISPLAY_WIDTH = 16;

export type DisplayLines = readonly [string, string];

function fit(text: string): string {
  return text.slice(0, DISPLAY_WIDTH);
}

export function lines(first: string, second = ""): DisplayLines {
  return [fit(first), fit(second)];
}

export function countdown(ms: number): string {
  const totalSeconds = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
}

export const DISPLAY = {
  idle: () => lines("ENTER CODE"),
  /** Digits being typed, under the prompt that asked for them (a next code keeps its prompt). */
  typing: (digits: number, prompt = "ENTER CODE") => lines(prompt, "*".repeat(digits)),
  nextCode: (given: number, required: number) => lines(`CODE ${given + 1} OF ${required}`),
  delay: (remainingMs: number) => lines("TIME DELAY", countdown(remainingMs)),
  window: (remainingMs: number, given: number, required: number) =>
    lines(`CONFIRM ${given + 1} OF ${required}`, countdown(remainingMs)),
  released: () => lines("OPEN DOOR"),
  open: () => lines("DOOR OPEN"),
  /** The door closed; the bolt throws after the relock delay, then the seal shows. */
  closing: () => lines("DOOR CLOSED", "LOCKING"),
  doorAjar: () => lines("CLOSE DOOR"),
  closeSeal: (seal: string) => lines("LOCKED", `SEAL ${seal}`),
  wrongCode: () => lines("WRONG CODE"),
  penalty: (remainingMs: number) => lines("PENALTY", countdown(remainingMs)),
  timeLocked: () => lines("TIME LOCK"),
  blocked: () => lines("BLOCKED"),
  notPermitted: () => lines("NOT PERMITTED"),
  oneTimeCode: () => lines("ONE-TIME CODE"),
  changeCode: () => lines("CHANGE CODE", "ID + OLD CODE"),
  newCode: () => lines("NEW CODE"),
  repeatCode: () => lines("REPEAT NEW CODE"),
  codeChanged: () => lines("CODE CHANGED"),
  codeRefused: () => lines("CODE REFUSED"),
  cancelled: () => lines("CANCELLED"),
  fault: () => lines("FAULT", "LOCKED"),
  program: () => lines("PRG 1DLY 2EYE", "3WIN 4DUR 5MIX"),
  programmed: () => lines("PROGRAMMED"),
} as const;
