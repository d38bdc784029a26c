/**
 * aedes routes every message through mqemitter. Once more messages are in flight than its
 * concurrency allows, they queue, and each completion starts the next message on the same
 * stack (`released` → `_do` → `released` …). When thousands of locks publish at once — all
 * going offline after a network outage, say — that recursion overflows the stack and takes the
 * fleet down (mcollina/mqemitter#204, still open). This guard lets the queue drain on a fresh
 * stack every `maxDepth` messages, keeping the order: the deferred message goes back to the head
 * of the queue and holds its slot, so nothing emitted meanwhile overtakes it.
 */

/** The parts of mqemitter's instance the guard relies on (mqemitter 7). */
interface QueueingEmitter {
  current: number;
  _messageQueue: unknown[];
  _messageCallbacks: unknown[];
  _released: () => void;
  _do: (message: unknown, callback: unknown) => unknown;
}

function isQueueingEmitter(value: unknown): value is QueueingEmitter {
  const mq = value as Partial<QueueingEmitter> | null;
  return (
    typeof mq === "object" &&
    mq !== null &&
    typeof mq.current === "number" &&
    Array.isArray(mq._messageQueue) &&
    Array.isArray(mq._messageCallbacks) &&
    typeof mq._released === "function" &&
    typeof mq._do === "function"
  );
}

export const MQ_MAX_SYNC_DEPTH = 200;

/**
 * Installs the guard on an aedes broker's `mq`. Throws `E_BROKER_MQ` if the emitter is not the
 * mqemitter shape it knows: better to refuse to start than to run unguarded.
 */
export function guardMqRecursion(mq: unknown, maxDepth = MQ_MAX_SYNC_DEPTH): void {
  if (!isQueueingEmitter(mq)) {
    throw new CodedError(
      "E_BROKER_MQ",
      "the embedded broker's message emitter is not the mqemitter version this fleet guards",
    );
  }
  const emitter = mq;
  const doMessage = emitter._do;
  let depth = 0;
  emitter._do = function guardedDo(message: unknown, callback: unknown): unknown {
    if (depth >= maxDepth) {
      emitter._messageQueue.unshift(message);
      emitter._messageCallbacks.unshift(callback);
      emitter.current += 1; // `_released` gives this slot back before it starts the message
      setImmediate(() => emitter._released());
      return emitter;
    }
    depth += 1;
    try {
      return doMessage.call(emitter, message, callback);
    } finally {
      depth -= 1;
    }
  };
}

import { CodedError } from "@lockfleet/protocol";
