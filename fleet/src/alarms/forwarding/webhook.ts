/**
 * Webhook forwarding: each notice is POSTed as JSON; network errors, 5xx and 429 are retried
 * with exponential backoff, other 4xx answers are final (the target refused the notice). With
 * a secret, `X-Lockfleet-Signature: sha256=<hex HMAC of the body>` lets the receiver check
 * that the notice came from this fleet.
 */

import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CodedError } from "@lockfleet/protocol";
import type { AlarmForwarder, AlarmNotice } from "./forwarder.js";

export interface WebhookOptions {
  url: string;
  secret?: string | undefined;
  /** Tries in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Called before each retry (logging, tests). */
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
}

/** Delay before retry number `retry` (1-based): base·2^(retry−1), capped. */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(baseDelayMs * 2 ** (retry - 1), maxDelayMs);
}

export class WebhookForwarder implements AlarmForwarder {
  readonly name: string;
  readonly #options: Required<Omit<WebhookOptions, "secret" | "onRetry">> &
    Pick<WebhookOptions, "secret" | "onRetry">;
  readonly #closing = new AbortController();

  constructor(options: WebhookOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new CodedError("E_WEBHOOK_URL", `${options.url} is not an http(s) URL`);
    }
    this.name = `webhook ${url.origin}${url.pathname}`;
    this.#options = {
      attempts: 5,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      timeoutMs: 10_000,
      ...options,
    };
  }

  /** Stops waiting retries and requests in flight, so shutting down never hangs on a dead target. */
  async close(): Promise<void> {
    this.#closing.abort();
  }

  async forward(notice: AlarmNotice): Promise<void> {
    return this.postJson(JSON.stringify(notice));
  }

  /** POSTs any JSON text the same way (signed, retried): e.g. the admin log's checkpoints. */
  async postJson(body: string): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "lockfleet-fleet",
    };
    if (this.#options.secret !== undefined) {
      const mac = createHmac("sha256", this.#options.secret).update(body).digest("hex");
      headers["x-lockfleet-signature"] = `sha256=${mac}`;
    }
    let reason = "";
    for (let attempt = 1; attempt <= this.#options.attempts; attempt++) {
      if (attempt > 1) {
        const delay = backoffDelay(
          attempt - 1,
          this.#options.baseDelayMs,
          this.#options.maxDelayMs,
        );
        this.#options.onRetry?.(attempt, delay, reason);
        try {
          await sleep(delay, undefined, { signal: this.#closing.signal });
        } catch {
          throw new CodedError(
            "E_FORWARD_ABORTED",
            `${this.name}: the fleet shut down before retry ${attempt}`,
          );
        }
      }
      try {
        const response = await fetch(this.#options.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([
            AbortSignal.timeout(this.#options.timeoutMs),
            this.#closing.signal,
          ]),
        });
        await response.arrayBuffer();
        if (response.ok) return;
        reason = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) {
          throw new FinalRefusal(reason);
        }
      } catch (error) {
        if (error instanceof FinalRefusal) {
          throw new CodedError("E_FORWARD_REFUSED", `${this.name} answered ${error.message}`);
        }
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    throw new CodedError(
      "E_FORWARD_FAILED",
      `${this.name} did not take the notice after ${this.#options.attempts} attempts (last: ${reason})`,
    );
  }
}

class FinalRefusal extends Error {}
