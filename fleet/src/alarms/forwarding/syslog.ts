/**
 * Syslog forwarding (RFC 5424): over UDP one message per datagram (RFC 5426), over TCP with
 * octet counting (RFC 6587 §3.4.1: `LEN SP MSG`). The alarm travels in structured data under
 * the documentation enterprise number 32473 (RFC 5612), the sentence in MSG.
 */

import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { hostname } from "node:os";
import { CodedError } from "@lockfleet/protocol";
import { type AlarmKind, type AlarmPriority, DURESS } from "../alarm.js";
import type { AlarmForwarder, AlarmNotice } from "./forwarder.js";

export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  daemon: 3,
  auth: 4,
  syslog: 5,
  authpriv: 10,
  security: 13,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** RFC 5424 severities: 0 emergency … 7 debug. */
export const SYSLOG_SEVERITY = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
} as const;

/** Duress is an alert (act at once); the rest follows the alarm's priority. */
export function severityOf(kind: AlarmKind, priority: AlarmPriority, event: string): number {
  if (event === "acknowledged" || event === "cleared") return SYSLOG_SEVERITY.notice;
  if (kind === DURESS) return SYSLOG_SEVERITY.alert;
  switch (priority) {
    case "critical":
      return SYSLOG_SEVERITY.critical;
    case "high":
      return SYSLOG_SEVERITY.error;
    case "medium":
      return SYSLOG_SEVERITY.warning;
    case "low":
      return SYSLOG_SEVERITY.notice;
  }
}

export function priValue(facility: number, severity: number): number {
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
    throw new CodedError("E_SYSLOG_FACILITY", `facility ${facility} is not 0–23`);
  }
  if (!Number.isInteger(severity) || severity < 0 || severity > 7) {
    throw new CodedError("E_SYSLOG_SEVERITY", `severity ${severity} is not 0–7`);
  }
  return facility * 8 + severity;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` take a backslash. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (character) => `\\${character}`);
}

/** HOSTNAME, APP-NAME, PROCID, MSGID: printable US-ASCII without spaces, bounded, or "-". */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, "").slice(0, max);
  return clean === "" ? "-" : clean;
}

export interface SyslogHeader {
  facility: number;
  hostname?: string;
  appName?: string;
  procId?: string;
}

export const SD_ID = "lockfleet@32473";

/** One RFC 5424 message (no transport framing). */
export function formatSyslog(notice: AlarmNotice, header: SyslogHeader): string {
  const { alarm } = notice;
  const pri = priValue(header.facility, severityOf(alarm.kind, alarm.priority, notice.event));
  const params: Array<[string, string]> = [
    ["event", notice.event],
    ["alarmId", alarm.id],
    ["kind", alarm.kind],
    ["priority", alarm.priority],
    ["orgId", alarm.orgId],
    ["deviceId", alarm.deviceId],
    ["containerId", alarm.containerId ?? ""],
    ["raisedAt", alarm.raisedAt],
    ["occurrences", String(alarm.occurrences)],
    ["level", String(alarm.escalationLevel)],
  ];
  if (alarm.acknowledgedBy !== null) params.push(["acknowledgedBy", alarm.acknowledgedBy]);
  const sd = `[${SD_ID} ${params.map(([name, value]) => `${name}="${escapeParamValue(value)}"`).join(" ")}]`;
  const sentence =
    notice.event === "acknowledged"
      ? `alarm ${alarm.kind} on ${alarm.deviceId} acknowledged: ${alarm.ackComment ?? ""}`
      : notice.event === "escalated"
        ? `alarm ${alarm.kind} on ${alarm.deviceId} unacknowledged, escalation level ${alarm.escalationLevel}`
        : `alarm ${alarm.kind} (${alarm.priority}) on ${alarm.deviceId}`;
  return [
    `<${pri}>1`,
    notice.sentAt,
    headerField(header.hostname ?? hostname(), 255),
    headerField(header.appName ?? "lockfleet", 48),
    headerField(header.procId ?? String(process.pid), 128),
    "alarm",
    sd,
    // MSG in UTF-8 starts with a BOM (RFC 5424 §6.4); control characters never reach the collector
    `\uFEFF${withoutControlCharacters(sentence)}`,
  ].join(" ");
}

function withoutControlCharacters(text: string): string {
  let clean = "";
  for (const character of text) {
    const code = character.charCodeAt(0);
    clean += code < 0x20 || code === 0x7f ? " " : character;
  }
  return clean;
}

/** RFC 6587 octet counting: the byte length, a space, the message. */
export function octetCountingFrame(message: string): Buffer {
  const body = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${body.length} `, "ascii"), body]);
}

export interface SyslogOptions {
  transport: "udp" | "tcp";
  host: string;
  port: number;
  facility?: SyslogFacility | number;
  hostname?: string;
  appName?: string;
  timeoutMs?: number;
}

export class SyslogForwarder implements AlarmForwarder {
  readonly name: string;
  readonly #header: SyslogHeader;
  #tcp: Socket | undefined;
  #closed = false;

  constructor(private readonly options: SyslogOptions) {
    this.name = `syslog ${options.transport} ${options.host}:${options.port}`;
    const facility =
      typeof options.facility === "number"
        ? options.facility
        : SYSLOG_FACILITIES[options.facility ?? "local0"];
    priValue(facility, 0);
    this.#header = {
      facility,
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
      ...(options.appName === undefined ? {} : { appName: options.appName }),
    };
  }

  async forward(notice: AlarmNotice): Promise<void> {
    return this.sendMessage(formatSyslog(notice, this.#header));
  }

  /** The facility and header fields this forwarder writes with (for other messages). */
  get header(): SyslogHeader {
    return this.#header;
  }

  /** Sends one ready RFC 5424 message: e.g. the admin log's checkpoints. */
  async sendMessage(message: string): Promise<void> {
    if (this.#closed) throw new CodedError("E_FORWARD_ABORTED", `${this.name} is closed`);
    if (this.options.transport === "udp") await this.#sendUdp(Buffer.from(message, "utf8"));
    else await this.#sendTcp(octetCountingFrame(message));
  }

  #sendUdp(datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(this.options.host.includes(":") ? "udp6" : "udp4");
      socket.send(datagram, this.options.port, this.options.host, (error) => {
        socket.close();
        if (error) reject(new CodedError("E_FORWARD_FAILED", `${this.name}: ${error.message}`));
        else resolve();
      });
    });
  }

  async #sendTcp(frame: Buffer): Promise<void> {
    const socket = await this.#connection();
    await new Promise<void>((resolve, reject) => {
      socket.write(frame, (error) => {
        if (error) {
          socket.destroy();
          reject(new CodedError("E_FORWARD_FAILED", `${this.name}: ${error.message}`));
        } else resolve();
      });
    });
  }

  /** One long-lived connection; a broken one is replaced on the next notice. */
  #connection(): Promise<Socket> {
    const current = this.#tcp;
    if (current !== undefined && !current.destroyed && current.writable) {
      return Promise.resolve(current);
    }
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.options.host, port: this.options.port });
      socket.setTimeout(this.options.timeoutMs ?? 10_000, () => {
        socket.destroy(new Error("timed out"));
      });
      const failed = (error: Error) =>
        reject(new CodedError("E_FORWARD_FAILED", `${this.name}: ${error.message}`));
      socket.once("error", failed);
      socket.once("connect", () => {
        socket.off("error", failed);
        if (this.#closed) {
          socket.destroy();
          reject(new CodedError("E_FORWARD_ABORTED", `${this.name} closed while connecting`));
          return;
        }
        socket.setTimeout(0);
        socket.on("error", () => socket.destroy());
        this.#tcp = socket;
        resolve(socket);
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#tcp;
    this.#tcp = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => socket.end(resolve));
  }
}
