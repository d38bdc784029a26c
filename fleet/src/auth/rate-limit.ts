/**
 * Login rate limit (SPEC §5): failed attempts are counted per account and per client address
 * in a sliding window; over the limit, login answers 429 `E_RATE_LIMITED` with Retry-After,
 * without checking the password (so guessing gains nothing while blocked).
 */
export interface RateLimitOptions {
  /** Failed attempts allowed per account within the window. */
  perAccount: number;
  /** Failed attempts allowed per client address within the window. */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_RATE_LIMIT: RateLimitOptions = {
  perAccount: 5,
  perAddress: 20,
  windowMs: 15 * 60_000,
};

export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly clock: () => number,
  ) {}

  /** Milliseconds until another attempt is allowed, or 0 when one is allowed now. */
  retryAfterMs(account: string, address: string): number {
    const now = this.clock();
    return Math.max(
      this.wait(`a:${account}`, this.options.perAccount, now),
      this.wait(`i:${address}`, this.options.perAddress, now),
    );
  }

  recordFailure(account: string, address: string): void {
    const now = this.clock();
    for (const key of [`a:${account}`, `i:${address}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  /** A successful login clears the account's count (not the address's). */
  recordSuccess(account: string): void {
    this.failures.delete(`a:${account}`);
  }

  private wait(key: string, limit: number, now: number): number {
    const list = this.recent(key, now);
    if (list.length < limit) return 0;
    const oldestCounted = list[list.length - limit] ?? now;
    return Math.max(1, oldestCounted + this.options.windowMs - now);
  }

  private recent(key: string, now: number): number[] {
    const list = this.failures.get(key) ?? [];
    const kept = list.filter((at) => at > now - this.options.windowMs);
    if (kept.length !== list.length) {
      if (kept.length === 0) this.failures.delete(key);
      else this.failures.set(key, kept);
    }
    return kept;
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) this.recent(key, now);
  }
}
