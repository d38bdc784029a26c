/**
 * Structured log lines (one JSON object per line, pino's field names) on stdout, where
 * systemd's journal picks them up. Never pass a code, a secret or a private key in `fields`.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface RuntimeLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVEL_NUMBER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function jsonLog(
  options: {
    level?: LogLevel;
    write?: (line: string) => void;
    base?: Record<string, unknown>;
  } = {},
): RuntimeLog {
  const threshold = LEVEL_NUMBER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const base = options.base ?? {};
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVEL_NUMBER[level] < threshold) return;
    const line = JSON.stringify({
      level: LEVEL_NUMBER[level],
      time: Date.now(),
      ...base,
      ...fields,
      msg,
    });
    write(`${line}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

/** A log that drops everything (tests, benchmarks). */
export const silentLog: RuntimeLog = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
