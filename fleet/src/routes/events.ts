/**
 * Live updates for the dashboard as Server-Sent Events (`GET /api/v1/events`): lock state,
 * availability, alarms, access windows and central releases (the lock's answer, the end of the
 * release's validity), each sent only to those whose scope holds it. A
 * bank sees its own locks; a CIT company sees the locks of its contract's containers and never
 * the duress alarm. The stream ends when the session ends.
 */
import type { CommandResult, LockState } from "@lockfleet/protocol";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { type AlarmScope, alarmVisibleTo } from "../alarms/alarm.js";
import type { AlarmEvent } from "../alarms/alarm-service.js";
import { resolvePrincipal } from "../auth/authenticate.js";
import { principalOf } from "../auth/authorize.js";
import { ROLES } from "../auth/principal.js";
import { alarmScopeOf } from "./alarms.js";

export const HEARTBEAT_MS = 15_000;
/** How long a CIT connection's list of contract containers is trusted before it is read again. */
const SCOPE_REFRESH_MS = 30_000;

/** What a window event carries (the windows part's `WindowEvent`). */
interface WindowNotice {
  windowId: string;
  bankOrgId: string;
  citOrgId: string;
  containerId: string;
  type: string;
  status: string;
  at: string;
}

/** What became of a central release at the lock: it answered, or the release's time ran out. */
export type CentralReleaseNotice = "confirmed" | "failed" | "expired";

export type LiveEvent =
  | {
      type: "state";
      orgId: string;
      containerId: string | null;
      data: { deviceId: string; containerId: string | null; state: LockState };
    }
  | {
      type: "availability";
      orgId: string;
      containerId: string | null;
      data: {
        deviceId: string;
        containerId: string | null;
        status: "online" | "offline";
        at: string;
      };
    }
  | {
      type: "centralRelease";
      orgId: string;
      containerId: string | null;
      data: {
        deviceId: string;
        containerId: string | null;
        commandId: string;
        status: CentralReleaseNotice;
      };
    }
  | { type: "alarm"; data: AlarmEvent }
  | { type: "window"; data: WindowNotice };

/** Whether the holder of `scope` may receive this event. */
export function liveEventVisibleTo(event: LiveEvent, scope: AlarmScope): boolean {
  switch (event.type) {
    case "state":
    case "availability":
      if (scope.kind === "bank") {
        if (event.orgId !== scope.orgId) return false;
        return (
          scope.containerIds === undefined ||
          (event.containerId !== null && scope.containerIds.includes(event.containerId))
        );
      }
      return event.containerId !== null && scope.containerIds.includes(event.containerId);
    case "centralRelease":
      // a bank's own power over its locks: never shown to a CIT company
      return (
        scope.kind === "bank" &&
        event.orgId === scope.orgId &&
        (scope.containerIds === undefined ||
          (event.containerId !== null && scope.containerIds.includes(event.containerId)))
      );
    case "alarm":
      return alarmVisibleTo(event.data.alarm, scope);
    case "window":
      return scope.kind === "bank"
        ? event.data.bankOrgId === scope.orgId
        : event.data.citOrgId === scope.orgId;
  }
}

/** One SSE frame; data is JSON on one line, so no field can break the framing. */
export function sseFrame(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Fans hub, alarm and window events out to every open stream. */
class LiveEvents {
  readonly #listeners = new Set<(event: LiveEvent) => void>();
  readonly #places = new Map<
    string,
    { orgId: string; containerId: string | null; until: number }
  >();

  constructor(private readonly app: FastifyInstance) {}

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get size(): number {
    return this.#listeners.size;
  }

  publish(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Where a lock sits, cached briefly: every state message would otherwise query it. */
  place(deviceId: string): { orgId: string; containerId: string | null } | undefined {
    const now = Date.now();
    const cached = this.#places.get(deviceId);
    if (cached !== undefined && cached.until > now) return cached;
    const device = this.app.hub.device(deviceId);
    if (device === undefined) return undefined;
    const found = { orgId: device.orgId, containerId: device.containerId, until: now + 60_000 };
    this.#places.set(deviceId, found);
    return found;
  }

  wire(): () => void {
    const { hub, alarms } = this.app;
    const onState = (deviceId: string, state: LockState) => {
      const place = this.place(deviceId);
      if (place === undefined) return;
      this.publish({
        type: "state",
        orgId: place.orgId,
        containerId: place.containerId,
        data: { deviceId, containerId: place.containerId, state },
      });
    };
    const onAvailability = (deviceId: string, status: "online" | "offline") => {
      const place = this.place(deviceId);
      if (place === undefined) return;
      const at = new Date(this.app.clock()).toISOString();
      this.publish({
        type: "availability",
        orgId: place.orgId,
        containerId: place.containerId,
        data: { deviceId, containerId: place.containerId, status, at },
      });
    };
    // A central release the lock holds runs out at the command's expiry; nothing else tells
    // the page, so the fleet says so at that moment.
    const expiries = new Set<ReturnType<typeof setTimeout>>();
    const onResult = (deviceId: string, result: CommandResult) => {
      // reading the command costs a store read per result: only while someone is watching
      if (this.#listeners.size === 0) return;
      let command: ReturnType<typeof hub.command>;
      try {
        command = hub.command(result.id);
      } catch (error) {
        // a live notice is not worth breaking the hub's handling of the result for
        this.app.log.warn({ err: error, deviceId }, "central release notice not sent");
        return;
      }
      if (command?.type !== "remote.centralRelease") return;
      const place = this.place(deviceId);
      if (place === undefined) return;
      const tell = (status: CentralReleaseNotice) =>
        this.publish({
          type: "centralRelease",
          orgId: place.orgId,
          containerId: place.containerId,
          data: { deviceId, containerId: place.containerId, commandId: command.id, status },
        });
      tell(result.status === "ok" ? "confirmed" : "failed");
      if (result.status !== "ok") return;
      const timer = setTimeout(
        () => {
          expiries.delete(timer);
          tell("expired");
        },
        Math.max(0, Date.parse(command.expiresAt) - this.app.clock()),
      );
      timer.unref();
      expiries.add(timer);
    };
    const onAlarm = (event: AlarmEvent) => this.publish({ type: "alarm", data: event });
    const onWindow = (event: WindowNotice) => this.publish({ type: "window", data: event });
    hub.on("state", onState);
    hub.on("availability", onAvailability);
    hub.on("result", onResult);
    alarms.on("alarm", onAlarm);
    // the windows service tells of every request, decision, revocation and close
    const windows = this.app.windows;
    windows.on("window", onWindow);
    return () => {
      hub.off("state", onState);
      hub.off("availability", onAvailability);
      hub.off("result", onResult);
      for (const timer of expiries) clearTimeout(timer);
      alarms.off("alarm", onAlarm);
      windows.off("window", onWindow);
    };
  }
}

/** The events plugin; `heartbeatMs` is also how soon a stream of an ended session stops. */
export function eventRoutesWith(options: { heartbeatMs: number }): FastifyPluginAsync {
  return async (app) => eventPlugin(app, options.heartbeatMs);
}

export const eventRoutes: FastifyPluginAsync = eventRoutesWith({ heartbeatMs: HEARTBEAT_MS });

async function eventPlugin(app: FastifyInstance, heartbeatMs: number): Promise<void> {
  const everyone = app.authorize(...ROLES);
  const live = new LiveEvents(app);
  let unwire: (() => void) | undefined;
  const streams = new Set<() => void>();
  // wired when the app is ready and unwired at close, so streams follow the services' lifetime
  app.addHook("onReady", async () => {
    unwire = live.wire();
  });
  app.addHook("preClose", async () => {
    for (const end of [...streams]) end();
  });
  app.addHook("onClose", async () => {
    unwire?.();
  });

  app.get(
    "/events",
    {
      onRequest: everyone,
      schema: {
        summary:
          "Server-Sent Events: state, availability, alarm, window and central-release events in my scope (text/event-stream)",
        tags: ["events"],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      let scope = alarmScopeOf(app, principal);
      let scopeReadAt = Date.now();
      let nextId = 1;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      });
      raw.write(
        `retry: 3000\n${sseFrame(nextId++, "hello", { orgId: principal.orgId, role: principal.role })}`,
      );

      const send = (event: LiveEvent) => {
        if (principal.orgKind === "cit" && Date.now() - scopeReadAt > SCOPE_REFRESH_MS) {
          scope = alarmScopeOf(app, principal);
          scopeReadAt = Date.now();
        }
        if (!liveEventVisibleTo(event, scope)) return;
        raw.write(sseFrame(nextId++, event.type, event.data));
      };
      const unsubscribe = live.subscribe(send);
      const heartbeat = setInterval(() => {
        // a logged-out or disabled account stops receiving at the next beat
        let still = null;
        try {
          still = resolvePrincipal(request, app.repos.users, app.clock());
        } catch {
          still = null;
        }
        if (still === null || still.userId !== principal.userId) {
          end();
          return;
        }
        raw.write(": beat\n\n");
      }, heartbeatMs);
      heartbeat.unref();
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(end);
        if (!raw.writableEnded) raw.end();
      };
      streams.add(end);
      request.raw.on("close", end);
    },
  );
}
