/**
 * The bank's outsourcing risk register (SPEC §5, MaRisk AT 9): per CIT contract one entry per
 * risk category, its likelihood derived from measured behaviour (overridable by a security
 * admin with a justification, both kept), its impact set by the bank. Only the bank that holds
 * the contract sees its register; every change goes to the admin log.
 */
import type { AdminLog } from "../admin-log.js";
import type { Principal } from "../auth/principal.js";
import { FleetError, forbidden, notFound } from "../errors.js";
import type { Contract, ContractsRepository } from "../storage/contracts-repository.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { Page, PageRequest } from "../storage/pagination.js";
import type { RiskEvidenceRepository } from "./evidence-repository.js";
import { type MeasuredAlarm, measureContract } from "./measure.js";
import type {
  EntryChanges,
  RiskFilter,
  RiskRepository,
  StoredRiskEntry,
} from "./risk-repository.js";
import {
  CATEGORY_DEFINITIONS,
  DEFAULT_PERIOD_MS,
  DEFAULT_REVIEW_MS,
  derivedLikelihood,
  RISK_CATEGORIES,
  type RiskLevel,
  riskLevel,
  riskScore,
} from "./scales.js";

/** The longest period one recompute measures (a little over a year). */
export const MAX_PERIOD_MS = 400 * 24 * 60 * 60_000;
export const MIN_JUSTIFICATION = 10;

export interface RiskEntry extends StoredRiskEntry {
  contractName: string;
  providerName: string;
  /** The override where one stands, else the derived likelihood. */
  likelihood: number;
  score: number;
  level: RiskLevel;
}

/** Where the alarms come from (the alarms part's repository). */
export interface RiskAlarmSource {
  all(
    scope: { kind: "bank"; orgId: string },
    filter: { from?: string; to?: string },
  ): Array<{ id: string; kind: string; containerId: string | null; raisedAt: string }>;
}

export interface RiskServiceOptions {
  risks: RiskRepository;
  evidence: RiskEvidenceRepository;
  contracts: ContractsRepository;
  orgs: OrgsRepository;
  /** Undefined when the app runs without the alarms part: alarms then measure as none. */
  alarms: RiskAlarmSource | undefined;
  adminLog: AdminLog;
  clock: () => number;
}

export interface RecomputeRequest {
  contractId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface RecomputeResult {
  period: { from: string; to: string };
  created: number;
  changed: number;
  entries: RiskEntry[];
}

export interface EntryUpdate {
  title?: string | undefined;
  impact?: number | undefined;
  owner?: string | null | undefined;
  measures?: string | undefined;
  reviewDate?: string | undefined;
}

type Actor = { personId: string; orgId: string } | "system";

const iso = (ms: number) => new Date(ms).toISOString();

/** `2027-03-31` yes, `2027-02-30` no. */
function isCalendarDate(text: string): boolean {
  const ms = Date.parse(`${text}T00:00:00.000Z`);
  return !Number.isNaN(ms) && iso(ms).slice(0, 10) === text;
}

export class RiskService {
  constructor(private readonly options: RiskServiceOptions) {}

  /** Measures every contract of the bank (or one) over the period and updates the register. */
  recompute(actor: Actor, bankOrgId: string, request: RecomputeRequest = {}): RecomputeResult {
    const period = this.#period(request);
    const contracts = this.#contractsOf(bankOrgId).filter(
      (contract) => request.contractId === undefined || contract.id === request.contractId,
    );
    if (request.contractId !== undefined && contracts.length === 0) {
      throw notFound("contract", request.contractId);
    }
    const nowMs = this.options.clock();
    const now = iso(nowMs);
    const alarms: MeasuredAlarm[] = (
      this.options.alarms?.all({ kind: "bank", orgId: bankOrgId }, period) ?? []
    ).filter((alarm) => alarm.raisedAt >= period.from && alarm.raisedAt < period.to);

    const created: string[] = [];
    const changed: Array<{ id: string; category: string; from: number; to: number }> = [];
    const touched: StoredRiskEntry[] = [];
    this.options.risks.transaction(() => {
      for (const contract of contracts) {
        const { evidence } = this.options;
        const windows = evidence.windows(contract.id);
        const windowIds = windows.map((w) => w.id);
        const measured = measureContract({
          period,
          now,
          windows,
          openings: evidence.openings(windowIds),
          sealRefusals: evidence.sealRefusals(windowIds),
          providerPeople: evidence.providerPeople(contract.citOrgId),
          lockOpenings: evidence.audit(
            contract.containerIds,
            ["cycle.confirmed"],
            period.from,
            period.to,
          ),
          otpRejections: evidence.audit(
            contract.containerIds,
            ["otp.rejected"],
            period.from,
            period.to,
          ),
          alarms: alarms.filter(
            (alarm) =>
              alarm.containerId !== null && contract.containerIds.includes(alarm.containerId),
          ),
        });
        for (const category of RISK_CATEGORIES) {
          const measurement = measured[category];
          const likelihood = derivedLikelihood(
            category,
            measurement.numerator,
            measurement.denominator,
          );
          const entryEvidence = { ...measurement, period };
          const existing = this.options.risks.byContract(contract.id, category);
          if (existing === undefined) {
            const entry = this.options.risks.insert({
              bankOrgId,
              contractId: contract.id,
              citOrgId: contract.citOrgId,
              category,
              title: CATEGORY_DEFINITIONS[category].title,
              derivedLikelihood: likelihood,
              impact: CATEGORY_DEFINITIONS[category].defaultImpact,
              reviewDate: iso(nowMs + DEFAULT_REVIEW_MS).slice(0, 10),
              evidence: entryEvidence,
              now,
            });
            created.push(entry.id);
            touched.push(entry);
          } else {
            if (existing.derivedLikelihood !== likelihood) {
              changed.push({
                id: existing.id,
                category,
                from: existing.derivedLikelihood,
                to: likelihood,
              });
            }
            touched.push(
              this.options.risks.setMeasurement(existing.id, likelihood, entryEvidence, now),
            );
          }
        }
      }
      // A scheduled run that changed nothing leaves no trace; a person's run always does.
      if (actor !== "system" || created.length > 0 || changed.length > 0) {
        this.options.adminLog.append({
          actor: actor === "system" ? "system" : actor.personId,
          action: "risk.recompute",
          target: request.contractId ?? bankOrgId,
          orgId: bankOrgId,
          data: { period, contracts: contracts.length, created, changed },
        });
      }
    });
    return {
      period,
      created: created.length,
      changed: changed.length,
      entries: touched.map((entry) => this.#view(entry)),
    };
  }

  /** The periodic run: every bank holding a contract, the default period. */
  recomputeAll(): number {
    let banks = 0;
    for (const bankOrgId of this.options.risks.banksWithContracts()) {
      this.recompute("system", bankOrgId);
      banks += 1;
    }
    return banks;
  }

  list(
    principal: Principal,
    filter: Omit<RiskFilter, "bankOrgId">,
    page: PageRequest,
  ): Page<RiskEntry> {
    const result = this.options.risks.list({ ...filter, bankOrgId: this.#bankOf(principal) }, page);
    return { items: result.items.map((entry) => this.#view(entry)), nextCursor: result.nextCursor };
  }

  all(principal: Principal, filter: Omit<RiskFilter, "bankOrgId">): RiskEntry[] {
    return this.options.risks
      .all({ ...filter, bankOrgId: this.#bankOf(principal) })
      .map((entry) => this.#view(entry));
  }

  get(principal: Principal, id: string): RiskEntry {
    return this.#view(this.#entry(principal, id));
  }

  update(principal: Principal, id: string, update: EntryUpdate): RiskEntry {
    return this.options.risks.transaction(() => {
      const before = this.#entry(principal, id);
      if (update.reviewDate !== undefined && !isCalendarDate(update.reviewDate)) {
        throw new FleetError("E_RISK_REVIEW_DATE", `review date ${update.reviewDate} is no date`);
      }
      const changes: EntryChanges = {
        title: update.title?.trim(),
        impact: update.impact,
        impactSetBy: update.impact === undefined ? undefined : principal.personId,
        owner: update.owner === undefined ? undefined : update.owner?.trim() || null,
        measures: update.measures,
        reviewDate: update.reviewDate,
      };
      if (changes.title === "") {
        throw new FleetError("E_RISK_TITLE", "a risk entry needs a title");
      }
      const after = this.options.risks.update(id, changes, iso(this.options.clock()));
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of ["title", "impact", "owner", "measures", "reviewDate"] as const) {
        if (before[key] !== after[key]) diff[key] = { from: before[key], to: after[key] };
      }
      this.options.adminLog.append({
        actor: principal.personId,
        action: "risk.update",
        target: id,
        orgId: after.bankOrgId,
        data: { contractId: after.contractId, category: after.category, changes: diff },
      });
      return this.#view(after);
    });
  }

  /** A security admin's own likelihood, kept beside the derived one, never without a reason. */
  override(principal: Principal, id: string, likelihood: number, justification: string): RiskEntry {
    const reason = this.#justification(justification);
    if (!Number.isInteger(likelihood) || likelihood < 1 || likelihood > 5) {
      throw new FleetError("E_RISK_LIKELIHOOD", `likelihood ${likelihood} is not on the scale 1–5`);
    }
    return this.options.risks.transaction(() => {
      const before = this.#entry(principal, id);
      const after = this.options.risks.setOverride(
        id,
        { likelihood, justification: reason, by: principal.personId },
        iso(this.options.clock()),
      );
      this.options.adminLog.append({
        actor: principal.personId,
        action: "risk.override",
        target: id,
        orgId: after.bankOrgId,
        data: {
          contractId: after.contractId,
          category: after.category,
          derivedLikelihood: after.derivedLikelihood,
          from: before.override?.likelihood ?? null,
          to: likelihood,
          justification: reason,
        },
      });
      return this.#view(after);
    });
  }

  clearOverride(principal: Principal, id: string, justification: string): RiskEntry {
    const reason = this.#justification(justification);
    return this.options.risks.transaction(() => {
      const before = this.#entry(principal, id);
      if (before.override === null) {
        throw new FleetError(
          "E_RISK_NO_OVERRIDE",
          `risk entry ${id} has no likelihood override`,
          409,
        );
      }
      const after = this.options.risks.setOverride(id, null, iso(this.options.clock()));
      this.options.adminLog.append({
        actor: principal.personId,
        action: "risk.overrideClear",
        target: id,
        orgId: after.bankOrgId,
        data: {
          contractId: after.contractId,
          category: after.category,
          derivedLikelihood: after.derivedLikelihood,
          from: before.override.likelihood,
          justification: reason,
        },
      });
      return this.#view(after);
    });
  }

  #justification(text: string): string {
    const reason = text.trim();
    if (reason.length < MIN_JUSTIFICATION) {
      throw new FleetError(
        "E_RISK_JUSTIFICATION",
        `a likelihood override needs a justification of at least ${MIN_JUSTIFICATION} characters`,
      );
    }
    return reason;
  }

  #bankOf(principal: Principal): string {
    // The register is the bank's own assessment of its providers: never shown to a provider.
    if (principal.orgKind !== "bank") throw forbidden("the risk register is the bank's alone");
    return principal.orgId;
  }

  #entry(principal: Principal, id: string): StoredRiskEntry {
    const bankOrgId = this.#bankOf(principal);
    const entry = this.options.risks.get(id);
    if (entry === undefined || entry.bankOrgId !== bankOrgId) throw notFound("risk entry", id);
    return entry;
  }

  #period(request: RecomputeRequest): { from: string; to: string } {
    const toMs = request.to === undefined ? this.options.clock() : Date.parse(request.to);
    const fromMs = request.from === undefined ? toMs - DEFAULT_PERIOD_MS : Date.parse(request.from);
    if (Number.isNaN(fromMs) || Number.isNaN(toMs) || fromMs >= toMs) {
      throw new FleetError("E_RISK_PERIOD", "the period needs from before to, as ISO instants");
    }
    if (toMs - fromMs > MAX_PERIOD_MS) {
      throw new FleetError("E_RISK_PERIOD", "the period may span at most 400 days");
    }
    return { from: iso(fromMs), to: iso(toMs) };
  }

  #contractsOf(bankOrgId: string): Contract[] {
    const contracts: Contract[] = [];
    let cursor: string | undefined;
    do {
      const page = this.options.contracts.list({ bankOrgId }, { limit: 200, cursor });
      contracts.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return contracts;
  }

  #view(entry: StoredRiskEntry): RiskEntry {
    const likelihood = entry.override?.likelihood ?? entry.derivedLikelihood;
    const score = riskScore(likelihood, entry.impact);
    return {
      ...entry,
      contractName: this.options.contracts.get(entry.contractId)?.name ?? entry.contractId,
      providerName: this.options.orgs.getOrg(entry.citOrgId)?.name ?? entry.citOrgId,
      likelihood,
      score,
      level: riskLevel(score),
    };
  }
}
