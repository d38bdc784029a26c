/**
 * Errors of the demo: a stable code and a sentence that says what to do. A missing part of
 * the project (while it is being built) is named, so a newcomer knows it is not their set-up.
 */
export class DemoError extends Error {
  constructor(
    readonly code: `E_DEMO_${string}` | "E_USAGE",
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
    this.name = "DemoError";
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
