/** A refusal by the lock's own rules: stable code, sentence for a person. */
export class LockRuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "LockRuleError";
  }
}
