/**
 * What the jobs of the window service share: its settings and stores, the clock, the admin
 * log entry both tenants read, the events it emits, and the steps several jobs take (reading
 * a window in scope, activating it, telling the CIT company).
 */
import type { EventEmitter } from "node:events";
import { formatInstant } from "@lockfleet/protocol";
import type { Principal } from "../auth/principal.js";
import { notFound, outOfScope } from "../errors.js";
import { COMMAND_WAIT_MS } from "./ports.js";
import type { AccessWindow, TenantNotification } from "./window-repository.js";
import type { WindowEvent, WindowServiceOptions } from "./window-service.js";

export type Actor = Pick<
  Principal,
  "personId" | "userId" | "role" | "orgId" | "orgKind" | "branches"
>;

export const SYSTEM = "system";

export class WindowContext {
  readonly o: WindowServiceOptions;
  readonly waitMs: number;
  /** The service, whose events ("window", "notification") every job emits. */
  readonly events: EventEmitter;

  constructor(options: WindowServiceOptions, events: EventEmitter) {
    this.o = options;
    this.waitMs = options.commandWaitMs ?? COMMAND_WAIT_MS;
    this.events = events;
  }

  now(): number {
    return this.o.clock();
  }

  iso(): string {
    return formatInstant(this.now());
  }

  log(
    actor: string,
    action: string,
    window: Pick<AccessWindow, "id" | "bankOrgId" | "citOrgId">,
    data: Record<string, unknown> = {},
  ): void {
    // Both tenants read their own part of the admin log: the bank's entry, and a copy for the CIT company.
    this.o.adminLog.append({
      actor,
      action,
      target: window.id,
      orgId: window.bankOrgId,
      data: { citOrgId: window.citOrgId, ...data },
    });
  }

  emit(type: WindowEvent["type"], window: AccessWindow): void {
    const event: WindowEvent = {
      type,
      windowId: window.id,
      bankOrgId: window.bankOrgId,
      citOrgId: window.citOrgId,
      containerId: window.containerId,
      status: window.status,
      at: this.iso(),
    };
    this.events.emit("window", event);
  }

  must(id: string): AccessWindow {
    const window = this.o.windows.get(id);
    if (window === undefined) throw notFound("access window", id);
    return window;
  }

  /** The window, if the principal's organisation is one of its two parties. */
  get(principal: Pick<Principal, "orgId" | "role">, id: string): AccessWindow {
    const window = this.o.windows.get(id);
    if (window === undefined) throw notFound("access window", id);
    if (
      principal.role !== "system" &&
      window.bankOrgId !== principal.orgId &&
      window.citOrgId !== principal.orgId
    ) {
      throw outOfScope("access window", id, window.bankOrgId);
    }
    return window;
  }

  container(window: AccessWindow): { id: string; orgId: string } {
    return { id: window.containerId, orgId: window.bankOrgId };
  }

  activate(id: string): void {
    if (this.o.windows.transition(id, ["approved"], "active")) {
      const active = this.must(id);
      this.log(SYSTEM, "window.active", active);
      this.emit("window.active", active);
    }
  }

  notify(window: AccessWindow, kind: string, message: string, data: Record<string, unknown>): void {
    const notification: TenantNotification = this.o.windows.notify({
      orgId: window.citOrgId,
      kind,
      windowId: window.id,
      message,
      data,
      createdAt: this.iso(),
    });
    this.events.emit("notification", notification);
  }
}
