/**
 * FleetStore: the fleet's one storage handle. It opens the database, hands out one repository
 * per aggregate and the report read models, and runs a unit of work in one transaction, so a
 * change and its admin-log entry commit together or not at all. Services take the store, never
 * the engine's handle; SQL lives in the repositories.
 *
 * This is the embedded engine (better-sqlite3, synchronous). Its `transaction(fn)` runs `fn`
 * at once in an IMMEDIATE transaction (the write lock taken up front, so two writers never
 * deadlock on an upgrade); a transaction opened inside another joins it as a savepoint, so a
 * service may wrap its own steps and still be part of a caller's larger unit.
 */
import { AdminLog } from "../admin-log.js";
import { AlarmRepository } from "../alarms/alarm-repository.js";
import { Lineage } from "../auth/separation.js";
import { CentralReleaseRepository } from "../devices/central-release-repository.js";
import { ClockCorrectionRepository } from "../devices/clock-correction-repository.js";
import { DeviceRepository } from "../devices/device-repository.js";
import { stateSinceReader } from "../devices/state-since.js";
import { PolicyRepository } from "../policy/policy-repository.js";
import { ReportRepository } from "../reports/report-repository.js";
import { RightsRepository } from "../rights/rights-repository.js";
import { RiskEvidenceRepository } from "../risk/evidence-repository.js";
import { RiskRepository } from "../risk/risk-repository.js";
import { UpdateRepository } from "../updates/update-repository.js";
import { WindowRepository } from "../windows/window-repository.js";
import { ContractsRepository } from "./contracts-repository.js";
import { type Database, type OpenDatabaseOptions, openDatabase } from "./db.js";
import { OrgsRepository } from "./orgs-repository.js";
import { PeopleRepository } from "./people-repository.js";
import { ProposalsRepository } from "./proposals-repository.js";
import { UsersRepository } from "./users-repository.js";

/** Read models over several aggregates: reports, the risk register's evidence, lock history. */
export interface FleetReadModels {
  reports: ReportRepository;
  riskEvidence: RiskEvidenceRepository;
  /** When each lock entered the state it is in, from its audit (devices/state-since.ts). */
  stateSince: (deviceId: string) => string | null;
}

export class FleetStore {
  /**
   * The engine's handle: for the repositories, the admin log's own chain, backups and the
   * health check only. Services use the repositories and `transaction`.
   */
  readonly sqlite: Database;
  readonly orgs: OrgsRepository;
  readonly people: PeopleRepository;
  readonly users: UsersRepository;
  readonly contracts: ContractsRepository;
  readonly proposals: ProposalsRepository;
  readonly devices: DeviceRepository;
  readonly clockCorrections: ClockCorrectionRepository;
  readonly centralReleases: CentralReleaseRepository;
  readonly windows: WindowRepository;
  readonly rights: RightsRepository;
  readonly policy: PolicyRepository;
  readonly alarms: AlarmRepository;
  readonly risks: RiskRepository;
  readonly updates: UpdateRepository;
  readonly readModels: FleetReadModels;
  /** Work to run once the outermost transaction of this store has committed. */
  #afterCommit: Array<() => void> | undefined;

  constructor(sqlite: Database) {
    this.sqlite = sqlite;
    this.orgs = new OrgsRepository(sqlite);
    this.people = new PeopleRepository(sqlite);
    this.users = new UsersRepository(sqlite);
    this.contracts = new ContractsRepository(sqlite);
    this.proposals = new ProposalsRepository(sqlite);
    this.devices = new DeviceRepository(sqlite);
    this.clockCorrections = new ClockCorrectionRepository(sqlite);
    this.centralReleases = new CentralReleaseRepository(sqlite);
    this.windows = new WindowRepository(sqlite);
    this.rights = new RightsRepository(sqlite);
    this.policy = new PolicyRepository(sqlite);
    this.alarms = new AlarmRepository(sqlite);
    this.risks = new RiskRepository(sqlite);
    this.updates = new UpdateRepository(sqlite);
    this.readModels = {
      reports: new ReportRepository(sqlite),
      riskEvidence: new RiskEvidenceRepository(sqlite),
      stateSince: stateSinceReader(sqlite),
    };
  }

  /** Opens (and migrates) the database file; `:memory:` for a throwaway store. */
  static open(path: string, options: OpenDatabaseOptions = {}): FleetStore {
    return new FleetStore(openDatabase(path, options));
  }

  /**
   * Runs `work` in one transaction: everything it writes commits together, or nothing does
   * when it throws. Inside another transaction it joins that one (as a savepoint).
   */
  transaction<T>(work: () => T): T {
    const run = this.sqlite.transaction(work);
    if (this.sqlite.inTransaction) return run();
    this.#afterCommit = [];
    let result: T;
    try {
      result = run.immediate();
    } catch (error) {
      this.#afterCommit = undefined;
      throw error;
    }
    const committed = this.#afterCommit;
    this.#afterCommit = undefined;
    for (const then of committed) then();
    return result;
  }

  /**
   * Runs `then` after the store's current transaction commits (never when it rolls back), or
   * at once outside a transaction. Inside a transaction the store did not open, it is dropped:
   * nothing tells when that one ends.
   */
  afterCommit(then: () => void): void {
    if (this.#afterCommit !== undefined) this.#afterCommit.push(then);
    else if (!this.sqlite.inTransaction) then();
  }

  /** The admin log over this store (its appends join the transaction they run in). */
  adminLog(clock: () => number): AdminLog {
    return new AdminLog(this.sqlite, clock, (then) => this.afterCommit(then));
  }

  /** Who made whom, from the stored accounts and proposals. */
  lineage(): Lineage {
    return new Lineage(this.sqlite);
  }

  get open(): boolean {
    return this.sqlite.open;
  }

  /** Whether the database answers a query now (health check). */
  reachable(): boolean {
    return this.sqlite.open && this.sqlite.prepare("SELECT 1").pluck().get() === 1;
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }
}
