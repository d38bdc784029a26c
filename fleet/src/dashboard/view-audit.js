// @ts-check
// The audit timeline of a lock, in words (filter by event, person by name, period; the
// bookkeeping between lock and fleet folded away), and the fleet's own admin log with actor
// names, paging that says why entries are missing, and chain verification.
import { allPages, api, errorText, optional } from "./api.js";
import { h, replace, table } from "./dom.js";
import { t } from "./i18n.js";
import { containerName, personNames, role, store, viewArea, zoneOf } from "./state.js";
import { localToIso, shownZone, when } from "./time.js";
import { adminLogWords, auditWords, BOOKKEEPING_KINDS, detailWords } from "./words.js";

/** @typedef {import("./types.js").AuditRecord} AuditRecord */
/** @typedef {import("./types.js").AdminLogEntry} AdminLogEntry */

/**
 * Every audit record of one lock, oldest first (up to 10,000).
 * @param {string} deviceId
 * @returns {Promise<AuditRecord[]>}
 */
export async function lockAudit(deviceId) {
  /** @type {AuditRecord[]} */
  const records = [];
  let after = 0;
  for (let i = 0; i < 20; i++) {
    const page = await api(
      `/devices/${encodeURIComponent(deviceId)}/audit?afterSeq=${after}&limit=500`,
    );
    records.push(...page.items);
    if (page.nextAfterSeq === null || page.nextAfterSeq === undefined) break;
    after = page.nextAfterSeq;
  }
  return records;
}

/**
 * The records as a table in words.
 * @param {AuditRecord[]} records newest first
 * @param {(id: string | null | undefined) => string} name
 * @param {string | null} zone
 */
export function auditTable(records, name, zone) {
  return table(
    [
      { label: t("No."), render: (r) => r.seq },
      { label: t("Lock time"), render: (r) => when(r.at, zone) },
      { label: t("Event"), render: (r) => auditWords(r.kind) },
      { label: t("Person"), render: (r) => name(r.actor) },
      {
        label: t("Details"),
        render: (r) =>
          h(
            "span",
            { class: "details" },
            detailWords(r.data, (id) => name(id)),
          ),
      },
    ],
    records,
    (r) => ({ dataset: { kind: r.kind } }),
  );
}

export async function audit() {
  const locks = [...store.devices.values()];
  const names = await personNames();
  const results = h("div", { id: "audit-results" });
  const lock = h(
    "select",
    { name: "deviceId" },
    locks.map((l) =>
      h("option", { value: l.deviceId }, `${containerName(l.containerId)} · ${l.deviceId}`),
    ),
  );
  const kind = h("input", { name: "kind", placeholder: t("e.g. cycle. or alarm.") });
  const actor = h(
    "select",
    { name: "actor" },
    h("option", { value: "" }, t("Anyone")),
    names.people
      .slice()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => h("option", { value: p.id }, p.name)),
  );
  const from = h("input", { name: "from", type: "datetime-local" });
  const to = h("input", { name: "to", type: "datetime-local" });
  const bookkeeping = h("input", { name: "bookkeeping", type: "checkbox" });
  const form = h(
    "form",
    { class: "inline", id: "audit-filter" },
    h("label", {}, `${t("Lock")} `, lock),
    h("label", {}, `${t("Event")} `, kind),
    h("label", {}, `${t("Person")} `, actor),
    h("label", {}, `${t("From")} `, from),
    h("label", {}, `${t("To")} `, to),
    h("label", { class: "check" }, bookkeeping, ` ${t("Show acknowledgements and checkpoints")}`),
    h("button", { type: "submit" }, t("Show")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!lock.value) return;
    try {
      const records = await lockAudit(lock.value);
      const zone = zoneOf(store.devices.get(lock.value)?.containerId) ?? shownZone();
      const start = from.value ? localToIso(from.value, zone) : "";
      const end = to.value ? localToIso(to.value, zone) : "";
      const shown = records
        .filter(
          (r) =>
            (bookkeeping.checked || !BOOKKEEPING_KINDS.includes(r.kind)) &&
            (!kind.value || r.kind.startsWith(kind.value)) &&
            (!actor.value || r.actor === actor.value) &&
            (!start || r.at >= start) &&
            (!end || r.at < end),
        )
        .reverse();
      const folded = bookkeeping.checked
        ? 0
        : records.filter((r) => BOOKKEEPING_KINDS.includes(r.kind)).length;
      replace(
        results,
        auditTable(shown, names.name, zone),
        folded > 0
          ? h(
              "p",
              { class: "muted", id: "audit-folded" },
              t("{n} acknowledgements and checkpoints between lock and fleet are folded away.", {
                n: folded,
              }),
            )
          : null,
      );
    } catch (error) {
      results.replaceChildren(h("p", { class: "error" }, errorText(error)));
    }
  });
  const sections = [
    h("section", { class: "card" }, h("h1", {}, t("Audit timeline")), form, results),
  ];
  if (["securityAdmin", "auditor"].includes(role())) sections.push(await adminLog(names.name));
  viewArea().replaceChildren(...sections);
}

const PAGE = 50;

/** @param {(id: string | null | undefined) => string} name */
async function adminLog(name) {
  const entries = /** @type {AdminLogEntry[]} */ (
    await optional(() => allPages("/admin-log", 2000))
  ).reverse();
  const box = h("div", { id: "admin-log" });
  const verdict = h("p", { id: "admin-log-verdict", role: "status" });
  let shown = PAGE;
  const draw = () => {
    const page = entries.slice(0, shown);
    /** @type {HTMLElement[]} */
    const gaps = [];
    for (let i = 1; i < page.length; i++) {
      const newer = page[i - 1];
      const older = page[i];
      if (newer && older && newer.seq - older.seq > 1) {
        gaps.push(
          h(
            "li",
            {},
            older.seq + 1 === newer.seq - 1
              ? t("No. {a}", { a: older.seq + 1 })
              : t("No. {a}–{b}", { a: older.seq + 1, b: newer.seq - 1 }),
          ),
        );
      }
    }
    replace(
      box,
      table(
        [
          { label: t("No."), render: (e) => e.seq },
          { label: t("Time"), render: (e) => when(e.at) },
          { label: t("Who"), render: (e) => e.actorName ?? name(e.actor) },
          // the stored action name stays at hand (hover) for those who search the export by it
          {
            label: t("Action"),
            render: (e) => h("span", { title: e.action }, adminLogWords(e.action)),
          },
          { label: t("Target"), render: (e) => e.target ?? "" },
        ],
        page,
      ),
      gaps.length
        ? h(
            "div",
            { class: "muted", id: "admin-log-gaps" },
            t(
              "Entries not shown here belong to other organisations on this fleet; the chain verification covers them:",
            ),
            h("ul", {}, gaps),
          )
        : null,
      entries.length > shown
        ? h(
            "button",
            {
              type: "button",
              class: "secondary",
              id: "admin-log-more",
              onclick: () => {
                shown += PAGE;
                draw();
              },
            },
            t("Show {n} older entries (of {total})", {
              n: Math.min(PAGE, entries.length - shown),
              total: entries.length,
            }),
          )
        : null,
    );
  };
  draw();
  const verify = h(
    "button",
    {
      type: "button",
      class: "secondary",
      id: "admin-log-verify",
      onclick: async () => {
        verdict.textContent = t("Checking…");
        try {
          const result = await api("/admin-log/verify");
          verdict.textContent = result.ok
            ? t("The chain is intact: {n} entries, none changed or removed.", { n: result.entries })
            : t("The chain is BROKEN at entry {at}: {reason}", {
                at: result.brokenAt ?? "?",
                reason: result.reason ?? "",
              });
          verdict.className = result.ok ? "ok" : "error";
        } catch (error) {
          verdict.textContent = errorText(error);
        }
      },
    },
    t("Verify the chain"),
  );
  return h(
    "section",
    { class: "card" },
    h("div", { class: "row spread" }, h("h2", {}, t("Fleet admin log")), verify),
    verdict,
    box,
  );
}
