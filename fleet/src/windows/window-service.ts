/**
 * Access windows (SPEC §5): a CIT dispatcher asks for a container, a crew and a time range;
 * inside one of the contract's standing route windows the fleet approves at once, otherwise
 * bank officers decide (two distinct people where the container asks for dual control). An
 * approved window becomes a signed grant pushed to the container's locks, or one-time codes for
 * locks the network does not reach. Openings and close seals come back in the locks' audit;
 * a verified close seal closes the window. The bank may revoke at any time and the CIT company
 * is told. Every step goes into the admin log.
 *
 * The service is a facade over its jobs: approval-workflow.ts (request, decisions, revoke,
 * expiry), grant-delivery.ts (grants to and from the locks), code-issue.ts (one-time codes),
 * close-seals.ts (openings and close seals from the locks' audit); window-context.ts holds
 * what they share.
 */

import { EventEmitter } from "node:events";
import type { AuditRecord } from "@lockfleet/protocol";
import type { Principal } from "../auth/principal.js";
import type { FleetError } from "../errors.js";
import type { ContractsRepository } from "../storage/contracts-repository.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PageRequest } from "../storage/pagination.js";
import type { PeopleRepository } from "../storage/people-repository.js";
import { ApprovalWorkflow } from "./approval-workflow.js";
import { CloseSeals } from "./close-seals.js";
import { CodeIssue } from "./code-issue.js";
import { GrantDelivery } from "./grant-delivery.js";
import type { AdminLogPort, LockHub } from "./ports.js";
import { type Actor, WindowContext } from "./window-context.js";
import type { AccessWindow, WindowRepository, WindowStatus } from "./window-repository.js";

export { MAX_CREW, MAX_WINDOW_MS } from "./approval-workflow.js";

export interface WindowRequest {
  containerId: string;
  crew: string[];
  notBefore: string;
  notAfter: string;
  purpose: string;
  maxOpenings?: number | undefined;
}

/** A one-time code as shown to the dispatcher, once. */
export interface IssuedCode {
  deviceId: string;
  personId: string;
  code: string;
}

export interface WindowEvent {
  type:
    | "window.requested"
    | "window.approved"
    | "window.rejected"
    | "window.active"
    | "window.closed"
    | "window.revoked"
    | "window.expired";
  windowId: string;
  bankOrgId: string;
  citOrgId: string;
  containerId: string;
  status: WindowStatus;
  at: string;
}

/** Where the locks of a container are, and whether they are reachable now. */
export interface LockLocator {
  locksOf(container: { id: string; orgId: string }): Array<{ deviceId: string; online: boolean }>;
  containerOf(deviceId: string): { containerId: string; orgId: string } | undefined;
  /** Whether the lock is connected now (an offline lock's answer is not waited for). */
  online(deviceId: string): boolean;
}

export interface WindowServiceOptions {
  windows: WindowRepository;
  /** Runs `work` in one storage transaction (a change and its admin-log entry commit together). */
  transaction<T>(work: () => T): T;
  orgs: OrgsRepository;
  contracts: ContractsRepository;
  people: PeopleRepository;
  hub: LockHub;
  locks: LockLocator;
  adminLog: AdminLogPort;
  clock: () => number;
  /** How long to wait for a lock's answer to a grant or revocation. */
  commandWaitMs?: number;
  /** Maker–checker: refuses an approver who is not independent of an earlier one. */
  independence?: ApproverIndependence;
}

export interface ApproverIndependence {
  refusal(approver: string, others: readonly string[]): FleetError | undefined;
  /** Refuses an account opened after `since` (the second officer must already be active). */
  notYetActive?(approverUserId: string, since: string): FleetError | undefined;
}

export class WindowService extends EventEmitter {
  readonly #ctx: WindowContext;
  readonly #workflow: ApprovalWorkflow;
  readonly #delivery: GrantDelivery;
  readonly #codes: CodeIssue;
  readonly #seals: CloseSeals;

  constructor(options: WindowServiceOptions) {
    super();
    this.#ctx = new WindowContext(options, this);
    this.#delivery = new GrantDelivery(this.#ctx);
    this.#workflow = new ApprovalWorkflow(this.#ctx, this.#delivery);
    this.#codes = new CodeIssue(this.#ctx);
    this.#seals = new CloseSeals(this.#ctx);
  }

  /** The window, if the principal's organisation is one of its two parties. */
  get(principal: Pick<Principal, "orgId" | "role">, id: string): AccessWindow {
    return this.#ctx.get(principal, id);
  }

  list(
    principal: Pick<Principal, "orgId" | "orgKind">,
    filter: { status?: WindowStatus | undefined; containerId?: string | undefined },
    page: PageRequest,
  ) {
    return this.#workflow.list(principal, filter, page);
  }

  /** What happened under a window: openings (grant or one-time code), codes used, refused seals. */
  usage(principal: Pick<Principal, "orgId" | "role">, id: string) {
    return this.#workflow.usage(principal, id);
  }

  notifications(principal: Pick<Principal, "orgId">, page: PageRequest) {
    return this.#workflow.notifications(principal, page);
  }

  request(principal: Actor, input: WindowRequest): Promise<AccessWindow> {
    return this.#workflow.request(principal, input);
  }

  approve(principal: Actor, id: string): Promise<AccessWindow> {
    return this.#workflow.approve(principal, id);
  }

  reject(principal: Actor, id: string, reason: string | undefined): AccessWindow {
    return this.#workflow.reject(principal, id, reason);
  }

  revoke(principal: Actor, id: string, reason: string | undefined): Promise<AccessWindow> {
    return this.#workflow.revoke(principal, id, reason);
  }

  /** Open windows whose end has passed become expired. Returns how many. */
  expireDue(): number {
    return this.#workflow.expireDue();
  }

  /**
   * A lock that was offline when its window was approved gets the grant when it comes back, as
   * long as the window is still open.
   */
  onLockOnline(deviceId: string): Promise<void> {
    return this.#delivery.onLockOnline(deviceId);
  }

  /** One-time codes for each crew member at each lock of the container, shown once. */
  issueCodes(
    principal: Actor,
    id: string,
  ): { window: AccessWindow; notBefore: string; notAfter: string; codes: IssuedCode[] } {
    return this.#codes.issueCodes(principal, id);
  }

  /** The close seal as read off the lock's display and reported by the crew (offline locks). */
  closeWithSeal(principal: Actor, id: string, seal: string): AccessWindow {
    return this.#seals.closeWithSeal(principal, id, seal);
  }

  /** Follows a lock's verified audit: grant installs and uses, one-time codes, relocks. */
  onAudit(deviceId: string, records: readonly AuditRecord[]): void {
    this.#seals.onAudit(deviceId, records);
  }
}
