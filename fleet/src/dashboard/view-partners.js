// @ts-check
// Set-up of a bank's partners and accounts (security admin): CIT companies, contracts with
// their containers and standing route windows, and login accounts per role.
import { allPages, api, optional } from "./api.js";
import { h, table } from "./dom.js";
import { checkedForm, choice, field } from "./forms.js";
import { t } from "./i18n.js";
import { containerName, me, store } from "./state.js";
import { localToIso, shownZone, when } from "./time.js";
import { roleWords } from "./words.js";

/** @typedef {{ id: string, kind: "bank" | "cit", name: string, sponsorOrgId?: string }} Org */
/** @typedef {{ id: string, personId: string, orgId: string, role: string, email: string, disabledAt?: string }} Account */

const DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const BANK_ROLES = ["securityAdmin", "branchManager", "auditor", "technician"];
const CIT_ROLES = ["citDispatcher", "citCrew"];

/**
 * A standing route window in words, either notation the API takes.
 * @param {any} w
 */
export function standingWindowText(w) {
  const day = (/** @type {number} */ n) => t(DAYS[n - 1] ?? String(n));
  if (Array.isArray(w.days)) return `${w.days.map(day).join(", ")} ${w.from}–${w.until}`;
  return `${day(w.startDay)} ${w.startTime} – ${day(w.endDay)} ${w.endTime}`;
}

/**
 * A contract's standing windows in words; the same hours on several days read as one line
 * ("Mo, Tu, We 06:00–20:00").
 * @param {any[]} windows
 */
export function standingWindowsText(windows) {
  /** @type {Map<string, number[]>} */
  const sameHours = new Map();
  const others = [];
  for (const w of windows) {
    if (!Array.isArray(w.days) && w.startDay === w.endDay && w.startTime < w.endTime) {
      const hours = `${w.startTime}–${w.endTime}`;
      sameHours.set(hours, [...(sameHours.get(hours) ?? []), w.startDay]);
    } else others.push(standingWindowText(w));
  }
  const grouped = [...sameHours].map(
    ([hours, days]) => `${days.map((n) => t(DAYS[n - 1] ?? String(n))).join(", ")} ${hours}`,
  );
  return [...grouped, ...others].join("; ");
}

/**
 * @param {boolean} admin
 * @param {() => Promise<unknown>} redraw draws the set-up page again after a change
 */
export async function partnerSections(admin, redraw) {
  const orgs = /** @type {Org[]} */ (await optional(() => allPages("/orgs")));
  const companies = orgs.filter((o) => o.kind === "cit");
  const contracts = /** @type {import("./types.js").Contract[]} */ (
    await optional(() => allPages("/contracts"))
  );
  return [
    companySection(companies, admin, redraw),
    contractSection(companies, contracts, admin, redraw),
    await accountSection(orgs, admin),
  ];
}

/**
 * @param {Org[]} companies
 * @param {boolean} admin
 * @param {() => Promise<unknown>} redraw
 */
function companySection(companies, admin, redraw) {
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  return h(
    "section",
    { class: "card", id: "setup-companies" },
    h("h2", {}, t("CIT companies")),
    table([{ label: t("Company"), render: (o) => o.name }], companies, (o) => ({
      dataset: { orgId: o.id },
    })),
    admin
      ? checkedForm("create-company", [field(t("Name"), name)], t("Register CIT company"), {
          check: () => [name.value.trim() === "" && t("Give the company a name.")],
          send: () =>
            api("/orgs", { method: "POST", body: { kind: "cit", name: name.value.trim() } }),
          done: () => t("CIT company registered"),
          after: redraw,
        })
      : null,
  );
}

/**
 * @param {Org[]} companies
 * @param {import("./types.js").Contract[]} contracts
 * @param {boolean} admin
 * @param {() => Promise<unknown>} redraw
 */
function contractSection(companies, contracts, admin, redraw) {
  const companyName = new Map(companies.map((o) => [o.id, o.name]));
  const list = table(
    [
      { label: t("Contract"), render: (c) => c.name },
      { label: t("Company"), render: (c) => companyName.get(c.citOrgId) ?? c.citOrgId },
      { label: t("Containers"), render: (c) => c.containerIds.map(containerName).join(", ") },
      {
        label: t("Standing windows"),
        render: (c) => standingWindowsText(c.standingWindows),
      },
      {
        label: t("Valid"),
        render: (c) =>
          `${c.validFrom ? when(c.validFrom) : "—"} – ${c.validUntil ? when(c.validUntil) : "—"}`,
      },
      { label: t("Active"), render: (c) => (c.active ? t("yes") : t("no")) },
    ],
    contracts,
    (c) => ({ dataset: { contractId: c.id } }),
  );
  const section = h(
    "section",
    { class: "card", id: "setup-contracts" },
    h("h2", {}, t("Contracts")),
    list,
  );
  if (!admin) return section;
  if (companies.length === 0 || store.containers.length === 0) {
    section.append(
      h("p", { class: "muted" }, t("Register a CIT company and add a container first.")),
    );
    return section;
  }
  const company = choice(
    "citOrgId",
    companies.map((o) => /** @type {[string, string]} */ ([o.id, o.name])),
  );
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const containers = store.containers.map((c) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "containerIds", value: c.id }),
      ` ${c.name}`,
    ),
  );
  const days = DAYS.map((d, i) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "days", value: i + 1, checked: i < 5 }),
      ` ${t(d)}`,
    ),
  );
  const from = h("input", { name: "from", type: "time", value: "06:00" });
  const until = h("input", { name: "until", type: "time", value: "20:00" });
  const validUntil = h("input", { name: "validUntil", type: "date" });
  const checked = (/** @type {HTMLElement[]} */ labels) =>
    labels
      .map((l) => l.querySelector("input"))
      .filter((i) => i?.checked)
      .map((i) => i?.value ?? "");
  const form = checkedForm(
    "create-contract",
    [
      field(t("Company"), company),
      field(t("Name"), name),
      h("fieldset", {}, h("legend", {}, t("Containers")), containers),
      h(
        "fieldset",
        {},
        h("legend", {}, t("Standing route window")),
        days,
        field(t("from"), from),
        field(t("until"), until),
      ),
      field(t("Valid until (optional)"), validUntil),
    ],
    t("Create contract"),
    {
      check: () => [
        name.value.trim() === "" && t("Give the contract a name."),
        checked(containers).length === 0 && t("Choose at least one container."),
        from.value >= until.value &&
          checked(days).length > 0 &&
          t("The standing window must end after it starts."),
      ],
      send: () => {
        const weekdays = checked(days).map(Number);
        return api("/contracts", {
          method: "POST",
          body: {
            citOrgId: company.value,
            name: name.value.trim(),
            containerIds: checked(containers),
            // the same hours on each chosen day, one weekly period per day
            standingWindows: weekdays.map((day) => ({
              startDay: day,
              startTime: from.value,
              endDay: day,
              endTime: until.value,
            })),
            ...(validUntil.value ? { validUntil: localToIso(validUntil.value, shownZone()) } : {}),
          },
        });
      },
      done: () => t("Contract created"),
      after: redraw,
    },
  );
  section.append(h("h3", {}, t("New contract")), form);
  return section;
}

/**
 * Login accounts of the bank and of its CIT companies. (Where a second officer must approve an
 * account, that approval shows here once the accounts API asks for it.)
 * @param {Org[]} orgs
 * @param {boolean} admin
 */
async function accountSection(orgs, admin) {
  const mine = orgs.filter(
    (o) => o.id === me().principal.orgId || o.sponsorOrgId === me().principal.orgId,
  );
  const accounts = /** @type {Account[]} */ (
    (
      await Promise.all(
        mine.map((o) => optional(() => allPages(`/users?orgId=${encodeURIComponent(o.id)}`))),
      )
    ).flat()
  );
  const people = /** @type {import("./types.js").Person[]} */ (
    (
      await Promise.all(
        mine.map((o) => optional(() => allPages(`/people?orgId=${encodeURIComponent(o.id)}`))),
      )
    ).flat()
  );
  const personName = new Map(people.map((p) => [p.id, p.name]));
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  const section = h(
    "section",
    { class: "card", id: "setup-accounts" },
    h("h2", {}, t("Accounts")),
    table(
      [
        { label: t("Person"), render: (a) => personName.get(a.personId) ?? a.personId },
        { label: t("Organisation"), render: (a) => orgName.get(a.orgId) ?? "" },
        { label: t("Role"), render: (a) => roleWords(a.role) },
        { label: t("E-mail"), render: (a) => a.email },
        { label: t("Status"), render: (a) => (a.disabledAt ? t("disabled") : t("enabled")) },
      ],
      accounts,
      (a) => ({ dataset: { userId: a.id } }),
    ),
    h("div", { id: "account-approvals" }),
  );
  if (!admin) return section;
  const withAccount = new Set(accounts.filter((a) => !a.disabledAt).map((a) => a.personId));
  const candidates = people.filter((p) => p.status !== "deleted" && !withAccount.has(p.id));
  if (candidates.length === 0) {
    section.append(
      h(
        "p",
        { class: "muted" },
        t("Everyone has an account; add a person on the People page first."),
      ),
    );
    return section;
  }
  const orgKind = new Map(orgs.map((o) => [o.id, o.kind]));
  const person = choice(
    "personId",
    candidates.map(
      (p) => /** @type {[string, string]} */ ([p.id, `${p.name} · ${orgName.get(p.orgId) ?? ""}`]),
    ),
  );
  const roleOf = choice("role", []);
  const fillRoles = () => {
    const kind = orgKind.get(candidates.find((p) => p.id === person.value)?.orgId ?? "");
    roleOf.replaceChildren(
      ...(kind === "cit" ? CIT_ROLES : BANK_ROLES).map((r) =>
        h("option", { value: r }, roleWords(r)),
      ),
    );
  };
  person.addEventListener("change", fillRoles);
  fillRoles();
  const email = h("input", { name: "email", type: "email", required: true, maxlength: 254 });
  // A branch manager is bound to named branches (every route checks that scope).
  const branches = h(
    "select",
    { name: "branchIds", multiple: true, size: 3 },
    [...store.branches.values()].map((b) => h("option", { value: b.id }, b.name)),
  );
  const branchField = field(t("Branches"), branches);
  const showBranches = () => {
    branchField.hidden = roleOf.value !== "branchManager";
  };
  roleOf.addEventListener("change", showBranches);
  person.addEventListener("change", showBranches);
  showBranches();
  const shown = h("p", { id: "account-password" });
  section.append(
    h("h3", {}, t("New account")),
    checkedForm(
      "create-account",
      [
        field(t("Person"), person),
        field(t("Role"), roleOf),
        branchField,
        field(t("E-mail"), email),
      ],
      t("Open account"),
      {
        check: () => [
          !/^[^\s@]+@[^\s@]+$/.test(email.value) && t("Give a valid e-mail address."),
          roleOf.value === "branchManager" &&
            branches.selectedOptions.length === 0 &&
            t("Choose the branches this branch manager is responsible for."),
        ],
        send: () =>
          api("/users", {
            method: "POST",
            body: {
              personId: person.value,
              role: roleOf.value,
              email: email.value.trim(),
              ...(roleOf.value === "branchManager"
                ? { branchIds: [...branches.selectedOptions].map((o) => o.value) }
                : {}),
            },
          }),
        done: (answer) => {
          // An account with power is a proposal: its password goes to the approving officer.
          if (answer.proposal) {
            shown.replaceChildren(
              t(
                "Account proposed: a second officer approves it under Approvals and receives the password to hand over.",
              ),
            );
            return t("Account proposed");
          }
          shown.replaceChildren(
            t("Account opened. Password (shown once, hand it over in person):"),
            " ",
            h("code", { class: "token" }, answer.generatedPassword ?? ""),
          );
          return t("Account opened");
        },
      },
    ),
    shown,
  );
  return section;
}
