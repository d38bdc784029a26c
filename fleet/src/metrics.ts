import { CodedError } from "@lockfleet/protocol";

/**
 * A small Prometheus registry (text exposition format 0.0.4). Counters carry labels; gauges
 * are read from a callback when scraped. Registering a name again returns the same counter
 * (or replaces the gauge's callback), so several parts and several app instances in one
 * process can register freely.
 */

type Labels = Record<string, string>;

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`];
    for (const [key, entry] of this.values) lines.push(`${this.name}${key} ${entry.value}`);
    return lines.join("\n");
  }
}

interface Gauge {
  name: string;
  help: string;
  read: () => number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class MetricsRegistry {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();

  counter(name: string, help: string): Counter {
    checkName(name);
    let counter = this.counters.get(name);
    if (counter === undefined) {
      counter = new Counter(name, help);
      this.counters.set(name, counter);
    }
    return counter;
  }

  gauge(name: string, help: string, read: () => number): void {
    checkName(name);
    this.gauges.set(name, { name, help, read });
  }

  render(): string {
    const blocks: string[] = [];
    for (const counter of this.counters.values()) blocks.push(counter.render());
    for (const gauge of this.gauges.values()) {
      let value: number;
      try {
        value = gauge.read();
      } catch {
        value = Number.NaN;
      }
      blocks.push(
        [
          `# HELP ${gauge.name} ${escapeHelp(gauge.help)}`,
          `# TYPE ${gauge.name} gauge`,
          `${gauge.name} ${formatValue(value)}`,
        ].join("\n"),
      );
    }
    return `${blocks.join("\n")}\n`;
  }
}

function checkName(name: string): void {
  if (!METRIC_NAME.test(name))
    throw new CodedError("E_METRIC_NAME", `"${name}" is not a metric name`);
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  const parts = keys.map(
    (key) =>
      `${key}="${(labels[key] ?? "").replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return `{${parts.join(",")}}`;
}

/** The process-wide registry: the HTTP API and the device hub both report here by default. */
export const metrics = new MetricsRegistry();
