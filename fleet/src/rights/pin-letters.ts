/**
 * PIN letters (SPEC §3 "a new person gets an initial one-time code (like a PIN letter)"): the
 * initial code a lock received for a new user is kept sealed under the key-encryption key only
 * until its letter is downloaded — once, by a bank officer, recorded in the admin log with who
 * did it — and then deleted: it is never shown again. A bank may deliver in two halves
 * (`splitPinLetters`): each half is downloaded once, the two by two different officers.
 */
import type { Database } from "better-sqlite3";
import type { AdminLog } from "../admin-log.js";
import { inBranchScope, type Principal } from "../auth/principal.js";
import { conflict, FleetError, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { SecretBox } from "../secrets.js";
import type { OrgsRepository } from "../storage/orgs-repository.js";
import type { PeopleRepository } from "../storage/people-repository.js";

export interface PinLetterView {
  id: string;
  personId: string;
  containerId: string;
  deviceId: string;
  slot: number;
  split: boolean;
  /** Still waiting to be downloaded (both halves when split). */
  pending: boolean;
}

export interface DownloadedLetter {
  letterId: string;
  personId: string;
  containerId: string;
  deviceId: string;
  slot: number;
  /** The whole initial code, or the half this download carries. */
  code: string;
  half?: 1 | 2;
  /** The printable letter. */
  text: string;
}

interface LetterRow {
  id: string;
  org_id: string;
  person_id: string;
  container_id: string;
  device_id: string;
  slot: number;
  sealed_code: string | null;
  split: number;
  created_at: string;
  first_half_by: string | null;
  second_half_by: string | null;
  downloaded_by: string | null;
}

const purpose = (id: string) => `pin-letter:${id}`;
const LETTER_ROLES = ["securityAdmin", "branchManager"];

export class PinLetters {
  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly adminLog: AdminLog,
    private readonly orgs: OrgsRepository,
    private readonly people: PeopleRepository,
    private readonly clock: () => number,
  ) {}

  splitDelivery(orgId: string): boolean {
    const row = this.db
      .prepare("SELECT split_pin_letters FROM bank_settings WHERE org_id = ?")
      .pluck()
      .get(orgId) as number | undefined;
    return row === 1;
  }

  setSplitDelivery(principal: Principal, split: boolean): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO bank_settings (org_id, split_pin_letters) VALUES (?, ?)
           ON CONFLICT (org_id) DO UPDATE SET split_pin_letters = excluded.split_pin_letters`,
        )
        .run(principal.orgId, split ? 1 : 0);
      this.adminLog.append({
        actor: principal.personId,
        action: "bankSettings.change",
        target: principal.orgId,
        orgId: principal.orgId,
        data: { splitPinLetters: split },
      });
    })();
  }

  /** Seals the initial codes of a grant or push; returns the letters (never a code). */
  store(
    orgId: string,
    personId: string,
    createdBy: string,
    codes: ReadonlyArray<{ containerId: string; deviceId: string; slot: number; code: string }>,
  ): PinLetterView[] {
    const split = this.splitDelivery(orgId);
    const insert = this.db.prepare(
      `INSERT INTO pin_letters (id, org_id, person_id, container_id, device_id, slot, sealed_code, split, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return codes.map((code) => {
      const id = newId("pin");
      insert.run(
        id,
        orgId,
        personId,
        code.containerId,
        code.deviceId,
        code.slot,
        this.secrets.seal(new TextEncoder().encode(code.code), purpose(id)),
        split ? 1 : 0,
        new Date(this.clock()).toISOString(),
        createdBy,
      );
      return {
        id,
        personId,
        containerId: code.containerId,
        deviceId: code.deviceId,
        slot: code.slot,
        split,
        pending: true,
      };
    });
  }

  list(principal: Principal, personId: string): PinLetterView[] {
    return (
      this.db
        .prepare("SELECT * FROM pin_letters WHERE org_id = ? AND person_id = ? ORDER BY rowid")
        .all(principal.orgId, personId) as LetterRow[]
    ).map((row) => ({
      id: row.id,
      personId: row.person_id,
      containerId: row.container_id,
      deviceId: row.device_id,
      slot: row.slot,
      split: row.split === 1,
      pending: row.sealed_code !== null,
    }));
  }

  /** The letter (or one half), once; the code is deleted when nothing of it is left to give. */
  download(principal: Principal, id: string, half: 1 | 2 | undefined): DownloadedLetter {
    const row = this.db.prepare("SELECT * FROM pin_letters WHERE id = ?").get(id) as
      | LetterRow
      | undefined;
    const container = row === undefined ? undefined : this.orgs.getContainer(row.container_id);
    if (
      row === undefined ||
      row.org_id !== principal.orgId ||
      container === undefined ||
      !inBranchScope(principal, container.branchId)
    ) {
      throw notFound("PIN letter", id);
    }
    if (principal.orgKind !== "bank" || !LETTER_ROLES.includes(principal.role)) {
      throw new FleetError("E_FORBIDDEN", "bank officers hand out PIN letters", 403);
    }
    if (principal.personId === row.person_id) {
      throw new FleetError("E_SELF_SERVICE", "nobody downloads their own PIN letter", 403);
    }
    const split = row.split === 1;
    if (split && half === undefined) {
      throw new FleetError(
        "E_PIN_LETTER_SPLIT",
        "this bank delivers PIN letters in two halves: download ?half=1 and ?half=2 (two officers)",
        409,
      );
    }
    if (!split && half !== undefined) {
      throw new FleetError("E_PIN_LETTER_WHOLE", "this letter is delivered whole (no half)", 409);
    }
    const taken =
      half === 1 ? row.first_half_by : half === 2 ? row.second_half_by : row.downloaded_by;
    if (row.sealed_code === null || taken !== null) {
      throw conflict(
        "E_PIN_LETTER_GONE",
        `PIN letter ${id}${half === undefined ? "" : ` (half ${half})`} was already downloaded; it is never shown again`,
      );
    }
    const other = half === 1 ? row.second_half_by : half === 2 ? row.first_half_by : null;
    if (other !== null && other === principal.personId) {
      throw new FleetError(
        "E_SAME_OFFICER",
        "the two halves of a PIN letter go to two different officers",
        403,
      );
    }
    const code = new TextDecoder().decode(this.secrets.open(row.sealed_code, purpose(id)));
    const middle = Math.ceil(code.length / 2);
    const part = half === 1 ? code.slice(0, middle) : half === 2 ? code.slice(middle) : code;
    const at = new Date(this.clock()).toISOString();
    this.db.transaction(() => {
      const column = half === 1 ? "first_half" : half === 2 ? "second_half" : "downloaded";
      this.db
        .prepare(`UPDATE pin_letters SET ${column}_by = ?, ${column}_at = ? WHERE id = ?`)
        .run(principal.personId, at, id);
      const done = half === undefined || other !== null;
      if (done) this.db.prepare("UPDATE pin_letters SET sealed_code = NULL WHERE id = ?").run(id);
      this.adminLog.append({
        actor: principal.personId,
        action: "pinLetter.download",
        target: id,
        orgId: row.org_id,
        data: {
          personId: row.person_id,
          containerId: row.container_id,
          deviceId: row.device_id,
          slot: row.slot,
          ...(half === undefined ? {} : { half }),
        },
      });
    })();
    const person = this.people.get(row.person_id, this.clock());
    const bank = this.orgs.getOrg(row.org_id);
    const slot = String(row.slot).padStart(2, "0");
    const codeLine =
      half === undefined
        ? `Initial code:    ${part}`
        : `Initial code, ${half === 1 ? "first" : "second"} half:  ${part}   (the ${half === 1 ? "second" : "first"} half comes separately, from another officer)`;
    const text = [
      `PIN LETTER — ${bank?.name ?? row.org_id}`,
      "",
      `Person:          ${person?.name ?? row.person_id} (${row.person_id})`,
      `Container:       ${container.name} (${container.id})`,
      `Lock:            ${row.device_id}`,
      `Keypad slot:     ${slot}`,
      codeLine,
      "",
      `CHANGE AT FIRST USE: at the keypad enter ${slot} and the initial code, then your own`,
      "new code twice. The initial code works once only.",
      "",
      `Issued ${at}. This letter is shown once and cannot be printed again.`,
    ].join("\n");
    return {
      letterId: id,
      personId: row.person_id,
      containerId: row.container_id,
      deviceId: row.device_id,
      slot: row.slot,
      code: part,
      ...(half === undefined ? {} : { half }),
      text,
    };
  }
}
