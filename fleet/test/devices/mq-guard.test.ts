/**
 * The embedded broker must survive thousands of locks publishing at once (after an outage,
 * all of them report "offline" or their backlog together). aedes' message emitter drains its
 * queue recursively and overflows the stack; the guard drains it on fresh stacks, in order.
 */
import mqemitter from "mqemitter";
import { describe, expect, it } from "vitest";
import { guardMqRecursion } from "../../src/broker/mq-guard.js";

type Emitter = ReturnType<typeof mqemitter>;

/** Queues `count` messages behind one held slot, then releases it; resolves with what arrived. */
async function burst(mq: Emitter, count: number): Promise<number[]> {
  const delivered: number[] = [];
  let releaseFirst: (() => void) | undefined;
  mq.on("lock/+/availability", (message, done) => {
    const n = (message as unknown as { n: number }).n;
    if (n === 0) {
      releaseFirst = done; // the first message holds the only slot until we let it go
      return;
    }
    delivered.push(n);
    done(); // every other listener completes synchronously, as aedes' often do
  });
  await new Promise((resolve) => setImmediate(resolve));
  for (let n = 0; n <= count; n += 1) mq.emit({ topic: `lock/l${n}/availability`, n });
  releaseFirst?.();
  const started = Date.now();
  while (delivered.length < count && Date.now() - started < 10_000) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return delivered;
}

describe("broker message emitter under a publishing storm", () => {
  it("unguarded, a queue of 50,000 messages overflows the stack (the failure the guard exists for)", async () => {
    const mq = mqemitter({ concurrency: 1 });
    await expect(burst(mq, 50_000)).rejects.toThrow(RangeError);
  });

  it("guarded, every one of 50,000 queued messages is delivered, in the order emitted", async () => {
    const mq = mqemitter({ concurrency: 1 });
    guardMqRecursion(mq);
    const delivered = await burst(mq, 50_000);
    expect(delivered).toHaveLength(50_000);
    expect(delivered.every((n, index) => n === index + 1)).toBe(true);
  });

  it("refuses an emitter it does not know rather than run unguarded (E_BROKER_MQ)", () => {
    expect(() => guardMqRecursion({ emit() {} })).toThrow(/^E_BROKER_MQ/);
  });
});
