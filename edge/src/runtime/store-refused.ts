/**
 * A lock store that cannot be opened (damaged file, broken chain, unreadable disk) keeps the
 * lock from running — the bolt stays thrown — but must not leave the fleet guessing: before the
 * runtime gives up it connects with the device's own broker credentials and sends one
 * `storageFault` alarm from memory with the store's error code, then disconnects. The fleet
 * drops repeats of the same report (same lock, kind and audit seq), so a service manager
 * restarting the runtime does not flood the alarm inbox.
 */
import { join } from "node:path";
import { type Alarm, formatInstant, signDeviceMessage, topics } from "@lockfleet/protocol";
import type { DeviceIdentity } from "../lock/ports.js";
import { type DeviceConfig, openPassword } from "./device-files.js";
import { errorCode } from "./errors.js";
import type { RuntimeLog } from "./log.js";
import {
  MESSAGE_SEQ_BLOCK,
  MESSAGE_SEQ_FILE,
  readReservedSeq,
  writeReservedSeq,
} from "./message-signer.js";
import { MqttLink } from "./mqtt-link.js";

export interface RefusedStoreReport {
  config: DeviceConfig;
  /** The device's keys: the alarm is signed like everything else the lock says. */
  identity: DeviceIdentity;
  /** The data directory, whose sequence file gives the alarm a sequence the fleet has not seen. */
  dataDir: string;
  kek: Uint8Array;
  error: unknown;
  log: RuntimeLog;
  /** Overrides the provisioned broker URL (tests). */
  url?: string;
  /** Give up reaching the fleet after this long. Default 10 s. */
  timeoutMs?: number;
}

/** The alarm a refused store sends; `auditSeq` 1 stands for "no record could be read". */
export function refusedStoreAlarm(deviceId: string, error: unknown, at = Date.now()): Alarm {
  const message = error instanceof Error ? error.message : String(error);
  return {
    deviceId,
    alarm: "storageFault",
    priority: "high",
    at: formatInstant(at),
    auditSeq: 1,
    actor: null,
    data: {
      code: errorCode(error) ?? "E_STORAGE",
      error: message.slice(0, 300),
      storeRefused: true,
      fromMemory: true,
    },
  };
}

/** Sends the refused store's alarm; resolves when sent or when the fleet is not reached in time. */
export async function reportRefusedStore(report: RefusedStoreReport): Promise<boolean> {
  const { config, log } = report;
  const alarm = refusedStoreAlarm(config.deviceId, report.error);
  // The store's own sequence reservation cannot be read: take a fresh block from the sequence
  // file instead, recorded before the alarm leaves, so neither a repeated report nor the
  // repaired store later reuses the number.
  const seqFile = join(report.dataDir, MESSAGE_SEQ_FILE);
  const seq = readReservedSeq(seqFile) + 1;
  writeReservedSeq(seqFile, seq + MESSAGE_SEQ_BLOCK - 1);
  const signed = signDeviceMessage(
    "alarm",
    alarm,
    {
      deviceId: config.deviceId,
      keyId: report.identity.signingKeyId,
      secretKey: report.identity.signing.secretKey,
    },
    seq,
    Date.now(),
  );
  let resolveOnline: () => void = () => {};
  const online = new Promise<void>((resolve) => {
    resolveOnline = resolve;
  });
  const link = new MqttLink(
    {
      url: report.url ?? config.broker.url,
      org: config.org,
      deviceId: config.deviceId,
      username: config.broker.username,
      password: openPassword(config, report.kek),
      ...(config.broker.tls === undefined ? {} : { tls: config.broker.tls }),
      persistentSession: false,
      reconnectMinMs: 500,
      reconnectMaxMs: 2000,
      log,
    },
    { connected: () => resolveOnline(), disconnected: () => {}, command: () => {} },
  );
  const timeoutMs = report.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    link.start();
    const sent = await Promise.race([
      online.then(() => link.publish(topics.event(config.org, config.deviceId), signed)),
      timedOut,
    ]);
    if (sent === "timeout") {
      log.warn("storage fault not reported: fleet not reached", { timeoutMs });
      return false;
    }
    log.info("storage fault reported to the fleet", { code: alarm.data.code });
    return true;
  } catch (error) {
    log.warn("storage fault not reported", {
      err: error instanceof Error ? error.message : String(error),
    });
    return false;
  } finally {
    clearTimeout(timer);
    await link.stop().catch(() => {});
  }
}
