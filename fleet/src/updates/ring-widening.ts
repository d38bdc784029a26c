/**
 * Widening the ring of a started rollout — a higher percentage, more branches, or every
 * branch — reaches locks the two officers who started it did not agree to, so like starting it
 * is proposed by one security officer and approved by a second, distinct, independent one; the
 * new ring members are offered the release at once. Narrowing is not a widening
 * (`E_ROLLOUT_NOT_WIDER`): pause the rollout instead.
 */
import { formatInstant } from "@lockfleet/protocol";
import type { Principal } from "../auth/principal.js";
import type { FleetCode } from "../error-catalogue.js";
import { FleetError } from "../errors.js";
import type { RingWidening, RolloutRow } from "./update-repository.js";
import type { RolloutView, UpdateServiceOptions } from "./update-service.js";

export interface WideningRequest {
  percentage?: number;
  branchIds?: string[];
  allBranches?: boolean;
}

/** What a widening needs of the rollout service. */
export interface WideningHost {
  options: Pick<UpdateServiceOptions, "repository" | "adminLog" | "checkBranch" | "clock">;
  bank(principal: Principal): void;
  rollout(principal: Principal, id: string): RolloutRow;
  checkSecondOfficer(
    principal: Principal,
    proposedBy: string,
    proposedAt: string,
    refuse: (code: FleetCode, message: string, status: number) => never,
  ): void;
  offerRing(id: string, downloadBase: string): Promise<void>;
  view(principal: Principal, id: string): RolloutView;
}

export class RingWidenings {
  readonly #h: WideningHost;

  constructor(host: WideningHost) {
    this.#h = host;
  }

  propose(principal: Principal, id: string, input: WideningRequest): RolloutView {
    this.#h.bank(principal);
    const rollout = this.#h.rollout(principal, id);
    if (rollout.status !== "running" && rollout.status !== "paused")
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} is ${rollout.status}`, 409);
    const percentage = input.percentage ?? rollout.percentage;
    const current = new Set([
      ...(rollout.branchId === null ? [] : [rollout.branchId]),
      ...this.#h.options.repository.extraBranches(id),
    ]);
    const allBranches = input.allBranches === true && rollout.branchId !== null;
    const added = [...new Set(input.branchIds ?? [])].filter(
      (branchId) => rollout.branchId !== null && !current.has(branchId),
    );
    for (const branchId of added) this.#h.options.checkBranch(principal, branchId);
    if (
      percentage < rollout.percentage ||
      (percentage === rollout.percentage && !allBranches && added.length === 0)
    )
      throw new FleetError(
        "E_ROLLOUT_NOT_WIDER",
        `the ring of rollout ${id} only widens: a higher percentage than ${rollout.percentage}, more branches, or every branch`,
      );
    const widening: RingWidening = {
      percentage,
      branchIds: added,
      allBranches,
      proposedBy: principal.personId,
      proposedAt: formatInstant(this.#h.options.clock()),
    };
    const proposed = this.#h.options.repository.transaction(() => {
      if (!this.#h.options.repository.proposeWidening(id, widening)) return false;
      this.#h.options.adminLog.append({
        actor: principal.personId,
        action: "rollout.widen.propose",
        target: id,
        orgId: rollout.orgId,
        data: { percentage, branchIds: added, allBranches },
      });
      return true;
    });
    if (!proposed)
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} already has a widening waiting`, 409);
    return this.#h.view(principal, id);
  }

  /** A second, distinct, independent officer widens the ring; new ring members are offered. */
  async approve(principal: Principal, id: string, downloadBase: string): Promise<RolloutView> {
    this.#h.bank(principal);
    const rollout = this.#h.rollout(principal, id);
    const widening = rollout.widening;
    if (widening === null)
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} has no widening waiting`, 409);
    const refuse = (code: FleetCode, message: string, status: number): never => {
      this.#h.options.adminLog.append({
        actor: principal.personId,
        action: "rollout.widen.approve.refused",
        target: id,
        orgId: rollout.orgId,
        data: { code },
      });
      throw new FleetError(code, message, status);
    };
    this.#h.checkSecondOfficer(principal, widening.proposedBy, widening.proposedAt, refuse);
    for (const branchId of widening.branchIds) this.#h.options.checkBranch(principal, branchId);
    const applied = this.#h.options.repository.transaction(() => {
      if (!this.#h.options.repository.settleWidening(id, true)) return false;
      this.#h.options.adminLog.append({
        actor: principal.personId,
        action: "rollout.widen.approve",
        target: id,
        orgId: rollout.orgId,
        data: {
          percentage: widening.percentage,
          branchIds: widening.branchIds,
          allBranches: widening.allBranches,
          approvedBy: [widening.proposedBy, principal.personId],
        },
      });
      return true;
    });
    if (!applied)
      throw new FleetError(
        "E_ROLLOUT_STATE",
        `the widening of rollout ${id} was decided meanwhile`,
        409,
      );
    await this.#h.offerRing(id, downloadBase);
    return this.#h.view(principal, id);
  }

  reject(principal: Principal, id: string): RolloutView {
    this.#h.bank(principal);
    const rollout = this.#h.rollout(principal, id);
    const dropped = this.#h.options.repository.transaction(() => {
      if (!this.#h.options.repository.settleWidening(id, false)) return false;
      this.#h.options.adminLog.append({
        actor: principal.personId,
        action: "rollout.widen.reject",
        target: id,
        orgId: rollout.orgId,
        data: {},
      });
      return true;
    });
    if (!dropped)
      throw new FleetError("E_ROLLOUT_STATE", `rollout ${id} has no widening waiting`, 409);
    return this.#h.view(principal, id);
  }
}
