import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DebouncedLevel } from "../../src/hardware/debounce.js";

describe("input debounce", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the first reading after start-up counts at once", () => {
    const levels: boolean[] = [];
    const input = new DebouncedLevel(20, (level) => levels.push(level));
    expect(input.level).toBeUndefined();
    input.feed(true);
    expect(levels).toEqual([true]);
    expect(input.level).toBe(true);
  });

  it("a bounce shorter than the debounce time is never reported", () => {
    const levels: boolean[] = [];
    const input = new DebouncedLevel(20, (level) => levels.push(level));
    input.feed(true);
    input.feed(false);
    vi.advanceTimersByTime(10);
    input.feed(true);
    vi.advanceTimersByTime(100);
    expect(levels).toEqual([true]);
    expect(input.level).toBe(true);
  });

  it("a level that holds for the debounce time is reported once", () => {
    const levels: boolean[] = [];
    const input = new DebouncedLevel(20, (level) => levels.push(level));
    input.feed(true);
    input.feed(false);
    vi.advanceTimersByTime(19);
    expect(levels).toEqual([true]);
    input.feed(false); // the same level again does not restart the wait
    vi.advanceTimersByTime(1);
    expect(levels).toEqual([true, false]);
    vi.advanceTimersByTime(100);
    expect(levels).toEqual([true, false]);
  });

  it("contact chatter restarts the wait until the contact settles", () => {
    const levels: boolean[] = [];
    const input = new DebouncedLevel(20, (level) => levels.push(level));
    input.feed(false);
    for (let i = 0; i < 10; i++) {
      input.feed(i % 2 === 0);
      vi.advanceTimersByTime(5);
    }
    input.feed(true);
    vi.advanceTimersByTime(19);
    expect(levels).toEqual([false]);
    vi.advanceTimersByTime(1);
    expect(levels).toEqual([false, true]);
  });

  it("with no debounce time every change is reported at once", () => {
    const levels: boolean[] = [];
    const input = new DebouncedLevel(0, (level) => levels.push(level));
    input.feed(true);
    input.feed(false);
    input.feed(true);
    expect(levels).toEqual([true, false, true]);
  });

  it("reports exactly the levels that held for the debounce time (any input sequence)", () => {
    const debounceMs = 20;
    const segments = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 50 })), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(segments, (sequence) => {
        const reported: boolean[] = [];
        const input = new DebouncedLevel(debounceMs, (level) => reported.push(level));
        for (const [level, holdMs] of sequence) {
          input.feed(level);
          vi.advanceTimersByTime(holdMs);
        }
        input.stop();
        // The model: merge runs of one level; after the first reading, a run counts when it
        // differs from the last counted level and lasted at least the debounce time.
        const runs: Array<[boolean, number]> = [];
        for (const [level, holdMs] of sequence) {
          const last = runs.at(-1);
          if (last !== undefined && last[0] === level) last[1] += holdMs;
          else runs.push([level, holdMs]);
        }
        const [first, ...rest] = runs;
        if (first === undefined) return;
        const expected = [first[0]];
        let stable = first[0];
        for (const [level, heldMs] of rest) {
          if (level !== stable && heldMs >= debounceMs) {
            expected.push(level);
            stable = level;
          }
        }
        expect(reported).toEqual(expected);
        expect(input.level).toBe(stable);
      }),
    );
  });
});
