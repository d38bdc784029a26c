/**
 * Retained messages indexed by topic level (SPEC §5 "Reconnect storms").
 *
 * aedes-persistence's memory store keeps retained messages in one flat map and tests every one
 * of them against each new subscription, so N locks that each subscribe and keep a retained state
 * cost N² matches when they all come back at once. Here a subscription to an exact topic is one
 * map lookup per level, and a `+` level walks only the children of the levels above it.
 */
import { createRequire } from "node:module";
import { Readable } from "node:stream";

/** The fields of an aedes packet this store reads; the rest is carried along untouched. */
export interface RetainedPacket {
  topic: string;
  payload: Buffer | Uint8Array | string;
  [field: string]: unknown;
}

class TopicNode {
  readonly children = new Map<string, TopicNode>();
  packet: RetainedPacket | undefined = undefined;
}

export class RetainedIndex {
  readonly #root = new TopicNode();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  set(packet: RetainedPacket): void {
    let node = this.#root;
    for (const level of packet.topic.split("/")) {
      let child = node.children.get(level);
      if (child === undefined) {
        child = new TopicNode();
        node.children.set(level, child);
      }
      node = child;
    }
    if (node.packet === undefined) this.#size += 1;
    node.packet = packet;
  }

  get(topic: string): RetainedPacket | undefined {
    let node: TopicNode | undefined = this.#root;
    for (const level of topic.split("/")) {
      node = node.children.get(level);
      if (node === undefined) return undefined;
    }
    return node.packet;
  }

  delete(topic: string): void {
    const path: Array<[TopicNode, string]> = [];
    let node: TopicNode | undefined = this.#root;
    for (const level of topic.split("/")) {
      const child: TopicNode | undefined = node.children.get(level);
      if (child === undefined) return;
      path.push([node, level]);
      node = child;
    }
    if (node.packet === undefined) return;
    node.packet = undefined;
    this.#size -= 1;
    // Prune the levels nothing hangs on any more, so deleted locks leave no trace behind.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i] as [TopicNode, string];
      const child = parent.children.get(level);
      if (child === undefined || child.packet !== undefined || child.children.size > 0) break;
      parent.children.delete(level);
    }
  }

  /** Retained packets whose topic matches the MQTT filter (`+`, `#`; `$` topics only by name). */
  *match(filter: string): Generator<RetainedPacket> {
    yield* this.#walk(this.#root, filter.split("/"), 0);
  }

  *#walk(node: TopicNode, levels: readonly string[], index: number): Generator<RetainedPacket> {
    if (index === levels.length) {
      if (node.packet !== undefined) yield node.packet;
      return;
    }
    const level = levels[index] as string;
    if (level === "#") {
      // "a/#" matches "a" itself as well as everything below it [MQTT-4.7.1-2].
      if (node.packet !== undefined && index > 0) yield node.packet;
      for (const [name, child] of node.children) {
        if (index === 0 && name.startsWith("$")) continue; // [MQTT-4.7.2-1]
        yield* this.#everything(child);
      }
      return;
    }
    if (level === "+") {
      for (const [name, child] of node.children) {
        if (index === 0 && name.startsWith("$")) continue;
        yield* this.#walk(child, levels, index + 1);
      }
      return;
    }
    const child = node.children.get(level);
    if (child !== undefined) yield* this.#walk(child, levels, index + 1);
  }

  *#everything(node: TopicNode): Generator<RetainedPacket> {
    if (node.packet !== undefined) yield node.packet;
    for (const child of node.children.values()) yield* this.#everything(child);
  }
}

/** The part of aedes-persistence's async memory store that is replaced here. */
interface MemoryPersistence {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}
type MemoryPersistenceClass = new (options?: Record<string, unknown>) => MemoryPersistence;

const require = createRequire(import.meta.url);
// aedes-persistence is CommonJS without an exports map; its async memory store is the class
// aedes 1.x drives directly (setup() async, every method returning a promise).
const AsyncMemoryPersistence =
  require("aedes-persistence/asyncPersistence.js") as MemoryPersistenceClass;

function payloadLength(payload: RetainedPacket["payload"]): number {
  return typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
}

function* matchAll(index: RetainedIndex, patterns: readonly string[]): Generator<RetainedPacket> {
  for (const pattern of patterns) yield* index.match(pattern);
}

/**
 * aedes' in-memory persistence with the retained store swapped for a RetainedIndex. Sessions,
 * subscriptions, wills and QoS queues stay as aedes-persistence keeps them.
 */
export class IndexedRetainedPersistence extends AsyncMemoryPersistence {
  readonly retained = new RetainedIndex();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    if (payloadLength(packet.payload) === 0) {
      this.retained.delete(packet.topic);
    } else {
      this.retained.set({ ...packet });
    }
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.retained.match(pattern));
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(matchAll(this.retained, patterns));
  }
}
