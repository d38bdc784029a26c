// @ts-check
// Locks: every container in scope with its lock's state live, and (bank managers) the remote
// functions on a lock and the enrolment token for a technician.
import { api, errorSentence, errorText } from "./api.js";
import { confirmed, h, replace, table } from "./dom.js";
import { t } from "./i18n.js";
import { countdown, lockStatus } from "./lock-state.js";
import { branchOf, locksOf, openAlarmsOf, role, store, viewArea, zoneOf } from "./state.js";
import { when } from "./time.js";
import { clockSection } from "./view-clock.js";
import { alarmWords } from "./words.js";

/** @typedef {import("./types.js").Device} Device */
/** @typedef {import("./types.js").Container} Container */

/**
 * When each lock entered the state it shows: kept while the state stays the same across
 * reports, so "Since" is when the state began, not when the lock last reported.
 * @type {Map<string, { state: string, since: string }>}
 */
const stateSince = new Map();

/**
 * @param {Device | null | undefined} lock
 * @returns {string | undefined}
 */
export function sinceOf(lock) {
  if (!lock) return undefined;
  const status = lockStatus(lock, openAlarmsOf(lock.deviceId));
  const reportedAt =
    status.state === "offline" ? (lock.availabilityAt ?? undefined) : lock.state?.at;
  const known = stateSince.get(lock.deviceId);
  if (known && known.state === status.state) return known.since;
  // first sight: the fleet's word from the audit trail; a change seen live: the report showing it
  const since =
    known === undefined && status.state !== "offline"
      ? (lock.stateSince ?? reportedAt)
      : reportedAt;
  if (since) stateSince.set(lock.deviceId, { state: status.state, since });
  return since;
}

/** @param {Device | null | undefined} lock */
export function statePill(lock) {
  const status = lockStatus(lock, lock ? openAlarmsOf(lock.deviceId) : 0);
  const standing = lock?.state?.activeAlarms ?? [];
  const label =
    status.state === "alarm" && standing.length > 0
      ? `${t("Alarm")}: ${standing.map(alarmWords).join(", ")}`
      : t(status.label);
  return h(
    "span",
    { class: "lock-state", dataset: { state: status.state } },
    label,
    status.endsAt
      ? [
          " ",
          h(
            "span",
            { class: "countdown", dataset: { endsAt: status.endsAt } },
            countdown(status.endsAt),
          ),
        ]
      : null,
  );
}

function lockRows() {
  /** @type {Array<{ container: Container, lock: Device | null }>} */
  const rows = [];
  for (const container of store.containers) {
    const locks = locksOf(container.id);
    if (locks.length === 0) rows.push({ container, lock: null });
    for (const lock of locks) rows.push({ container, lock });
  }
  return rows;
}

export function locksTitle() {
  return store.view === "containers" ? t("My containers") : t("Branches and containers");
}

/** @param {(deviceId: string) => void} [openDetail] shows a lock's detail page */
export function renderLocks(openDetail) {
  const mayManage = ["securityAdmin", "branchManager"].includes(role());
  const panel = h("section", { class: "card", id: "lock-panel", hidden: true });
  /** @type {import("./dom.js").Column[]} */
  const columns = [
    { label: t("Branch"), render: (r) => branchOf(r.container.id)?.name ?? "" },
    { label: t("Container"), render: (r) => `${r.container.name} (${t(r.container.type)})` },
    {
      label: t("Lock"),
      render: (r) =>
        r.lock && openDetail
          ? h(
              "a",
              {
                href: `#lock/${r.lock.deviceId}`,
                dataset: { lockDetail: r.lock.deviceId },
              },
              r.lock.deviceId,
            )
          : (r.lock?.deviceId ?? "—"),
    },
    { label: t("State"), render: (r) => statePill(r.lock) },
    { label: t("Since"), render: (r) => when(sinceOf(r.lock), zoneOf(r.container.id)) },
  ];
  if (mayManage) {
    columns.push({
      label: t("Actions"),
      render: (r) =>
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { manage: r.container.id },
            onclick: () => showLockPanel(panel, r.container, r.lock ?? undefined),
          },
          t("Manage"),
        ),
    });
  }
  const grouped = table(columns, lockRows(), (r) => ({
    dataset: { containerId: r.container.id, deviceId: r.lock?.deviceId },
  }));
  viewArea().replaceChildren(
    h("section", { class: "card" }, h("h1", {}, locksTitle()), grouped),
    panel,
  );
}

/**
 * Remote functions on a container's lock (block, unblock, immediate time lock, time sync,
 * self-test — each a signed command the lock answers) and, for the security admin, a one-time
 * enrolment token for a technician to provision a lock into the container. Block and time
 * lock ask first; "Unblock" is the main button only on a blocked lock.
 * @param {HTMLElement} panel
 * @param {Container} container
 * @param {Device | undefined} lock
 */
function showLockPanel(panel, container, lock) {
  const answer = h("p", { class: "muted", id: "command-answer", role: "status" });
  /**
   * @param {Record<string, unknown>} body
   * @param {string} what
   */
  const send = async (body, what) => {
    if (!lock) return;
    answer.textContent = t("{what}: sending…", { what });
    try {
      const sent = await api(`/devices/${encodeURIComponent(lock.deviceId)}/commands`, {
        method: "POST",
        body: { ...body, waitMs: 5000 },
      });
      answer.textContent =
        sent.status === "ok"
          ? t("{what}: done, the lock confirmed", { what })
          : sent.status === "sent"
            ? t("{what}: sent; the lock has not answered yet", { what })
            : t("{what}: refused by the lock — {why}", {
                what,
                why: `${errorSentence(sent.result?.error?.code ?? "", sent.result?.error?.message ?? "")} (${sent.result?.error?.code ?? ""})`,
              });
    } catch (error) {
      answer.textContent = `${what}: ${errorText(error)}`;
    }
  };
  const reason = h("input", {
    name: "reason",
    maxlength: 200,
    required: true,
    placeholder: t("reason"),
  });
  const minutes = h("input", { name: "minutes", type: "number", min: 1, max: 8640, value: 60 });
  const block = h(
    "form",
    { class: "inline", id: "lock-block" },
    h("label", {}, `${t("Reason for blocking")} `, reason),
    h("button", { type: "submit", class: "danger" }, t("Block")),
  );
  const where = `${container.name}${lock ? ` (${lock.deviceId})` : ""}`;
  block.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!confirmed(t("Block {where}? Nobody can open it until it is unblocked.", { where })))
      return;
    send({ type: "remote.block", reason: reason.value.trim() }, t("Block"));
  });
  const timeLock = h(
    "form",
    { class: "inline", id: "lock-time-lock" },
    h("label", {}, `${t("Immediate time lock (min)")} `, minutes),
    h("button", { type: "submit", class: "danger" }, t("Time-lock now")),
  );
  timeLock.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = t("Time-lock {where} for {minutes} minutes? It cannot be opened until then.", {
      where,
      minutes: minutes.value,
    });
    if (!confirmed(question)) return;
    send({ type: "timeLock.immediate", minutes: Number(minutes.value) }, t("Time lock"));
  });
  const blocked = lock?.state?.blocked === true;
  const commands =
    lock === undefined
      ? [h("p", { class: "muted" }, t("No lock is enrolled in this container yet."))]
      : [
          blocked ? null : block,
          timeLock,
          h(
            "p",
            { class: "row" },
            role() === "securityAdmin"
              ? h(
                  "button",
                  {
                    type: "button",
                    id: "lock-unblock",
                    class: blocked ? undefined : "secondary",
                    onclick: () => send({ type: "remote.unblock" }, t("Unblock")),
                  },
                  t("Unblock"),
                )
              : null,
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: () => send({ type: "time.sync" }, t("Time sync")),
              },
              t("Time sync"),
            ),
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: () => send({ type: "selfTest.request" }, t("Self-test")),
              },
              t("Self-test"),
            ),
          ),
          answer,
        ];
  /** @type {HTMLElement[]} */
  const enrolment = [];
  if (role() === "securityAdmin") {
    const shown = h("p", { id: "enrolment-token" });
    const ttl = h("input", { name: "ttlMinutes", type: "number", min: 1, max: 43200, value: 60 });
    const form = h(
      "form",
      { class: "inline", id: "create-enrolment-token" },
      h("label", {}, `${t("Valid for (min)")} `, ttl),
      h("button", { type: "submit" }, t("Create enrolment token")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const created = await api("/enrolment-tokens", {
          method: "POST",
          body: { containerId: container.id, ttlMinutes: Number(ttl.value) },
        });
        shown.replaceChildren(
          t("Give this one-time token to the technician (shown once, valid until {until}):", {
            until: when(created.expiresAt, zoneOf(container.id)),
          }),
          " ",
          h("code", { class: "token" }, created.token),
        );
      } catch (error) {
        shown.textContent = errorText(error);
      }
    });
    enrolment.push(h("h2", {}, t("Provision a lock")), form, shown);
  }
  panel.hidden = false;
  replace(
    panel,
    h("h2", {}, where),
    commands,
    lock === undefined ? [] : clockSection(lock),
    enrolment,
  );
  panel.scrollIntoView?.({ block: "nearest" });
}

/**
 * Redraws one lock's state and "since" in place after a live event.
 * @param {string} deviceId
 * @param {(deviceId: string) => void} [openDetail]
 */
export function refreshLockRow(deviceId, openDetail) {
  if (store.view !== "locks" && store.view !== "containers") return;
  const row = document.querySelector(`tr[data-device-id="${CSS.escape(deviceId)}"]`);
  if (row === null) {
    renderLocks(openDetail);
    return;
  }
  const lock = store.devices.get(deviceId);
  row.children[3]?.replaceChildren(statePill(lock));
  const since = row.children[4];
  if (since) since.textContent = when(sinceOf(lock), zoneOf(lock?.containerId));
}

setInterval(() => {
  for (const element of document.querySelectorAll(".countdown[data-ends-at]")) {
    if (element instanceof HTMLElement)
      element.textContent = countdown(element.dataset.endsAt ?? "");
  }
}, 1000);
