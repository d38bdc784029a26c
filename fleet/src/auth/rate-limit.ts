/**
 * Login throttling (SPEC §5): every attempt is counted *before* the password is checked, per
 * account and per client address, in a sliding window; a successful login takes its own attempt
 * back. Over the limit, login answers 429 `E_RATE_LIMITED` with Retry-After without checking
 * the password, so parallel guesses gain nothing. Each further lockout of the same key doubles
 * the wait (back-off, up to `maxBackoffMs`). The address is the real client's: behind a reverse
 * proxy only with the proxy in the trusted list (`trustedProxies`), else every client would
 * share the proxy's address and one source could shut everybody out.
 */
import { metrics } from "../metrics.js";

export interface RateLimitOptions {
  /** Attempts allowed per account within the window (all sources together). */
  perAccount: number;
  /** Attempts allowed per client address within the window (all accounts together). */
  perAddress: number;
  windowMs: number;
  /** Longest wait a repeated lockout grows to; default 24 h. */
  maxBackoffMs?: number;
}

export const DEFAULT_LOGIN_RATE_LIMIT: RateLimitOptions = {
  perAccount: 5,
  perAddress: 20,
  windowMs: 15 * 60_000,
};

const loginAttempts = metrics.counter(
  "lockfleet_login_attempts_total",
  "Login attempts, by outcome (ok, failed, throttled) and by what throttled them",
);

interface KeyState {
  attempts: number[];
  /** Consecutive lockouts (reset when the key stays under its limit for a whole window). */
  lockouts: number;
  blockedUntil: number;
}

export class LoginRateLimiter {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly clock: () => number,
  ) {
    metrics.gauge(
      "lockfleet_login_throttled_accounts",
      "Accounts whose logins are throttled now",
      () => this.blockedCount("a:"),
    );
    metrics.gauge(
      "lockfleet_login_throttled_sources",
      "Client addresses whose logins are throttled now",
      () => this.blockedCount("i:"),
    );
  }

  /**
   * Counts an attempt now, before any check. Returns 0 when it may go on, else the milliseconds
   * to wait (the attempt is then not counted: a blocked caller cannot extend its own block).
   */
  begin(account: string, address: string): number {
    const now = this.clock();
    const keys: Array<[string, number]> = [
      [`a:${account}`, this.options.perAccount],
      [`i:${address}`, this.options.perAddress],
    ];
    const wait = Math.max(...keys.map(([key]) => this.blockedFor(key, now)));
    if (wait > 0) {
      loginAttempts.inc({ outcome: "throttled" });
      return wait;
    }
    for (const [key, limit] of keys) {
      const state = this.state(key, now);
      state.attempts.push(now);
      if (state.attempts.length >= limit) {
        // the limit is reached with this attempt: the next one waits, longer each time
        state.lockouts += 1;
        const backoff = this.options.windowMs * 2 ** (state.lockouts - 1);
        state.blockedUntil = now + Math.min(backoff, this.options.maxBackoffMs ?? 86_400_000);
      }
    }
    if (this.keys.size > 100_000) this.prune(now);
    return 0;
  }

  /** The attempt failed: it stays counted. */
  failed(): void {
    loginAttempts.inc({ outcome: "failed" });
  }

  /**
   * The attempt succeeded: it is taken back from the address's count (a login is no guess), and
   * the account's count starts again.
   */
  succeeded(account: string, address: string): void {
    loginAttempts.inc({ outcome: "ok" });
    this.keys.delete(`a:${account}`);
    const state = this.keys.get(`i:${address}`);
    if (state === undefined) return;
    const wasAtLimit = state.attempts.length >= this.options.perAddress;
    state.attempts.pop();
    if (wasAtLimit && state.attempts.length < this.options.perAddress) {
      // the block this very attempt set is lifted again
      state.blockedUntil = 0;
      state.lockouts = Math.max(0, state.lockouts - 1);
    }
  }

  /** Milliseconds until another attempt is allowed, or 0 when one is allowed now. */
  retryAfterMs(account: string, address: string): number {
    const now = this.clock();
    return Math.max(this.blockedFor(`a:${account}`, now), this.blockedFor(`i:${address}`, now));
  }

  private blockedFor(key: string, now: number): number {
    const state = this.keys.get(key);
    if (state === undefined || state.blockedUntil <= now) return 0;
    return Math.max(1, state.blockedUntil - now);
  }

  private state(key: string, now: number): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      state = { attempts: [], lockouts: 0, blockedUntil: 0 };
      this.keys.set(key, state);
    }
    const kept = state.attempts.filter((at) => at > now - this.options.windowMs);
    if (kept.length === 0 && state.blockedUntil <= now - this.options.windowMs) state.lockouts = 0;
    state.attempts = kept;
    return state;
  }

  private blockedCount(prefix: string): number {
    const now = this.clock();
    let count = 0;
    for (const [key, state] of this.keys) {
      if (key.startsWith(prefix) && state.blockedUntil > now) count += 1;
    }
    return count;
  }

  private prune(now: number): void {
    for (const [key, state] of [...this.keys]) {
      if (state.blockedUntil <= now && this.state(key, now).attempts.length === 0) {
        this.keys.delete(key);
      }
    }
  }
}
