// @ts-check
// Approvals (bank): access windows waiting for a decision, and lock policy changes (propose,
// approve, reject; a weakening one needs a second officer).
import { allPages, api, optional } from "./api.js";
import { confirmed, h, table, toast } from "./dom.js";
import { t } from "./i18n.js";
import {
  change,
  containerName,
  containerOf,
  loadLocks,
  personNames,
  role,
  store,
  viewArea,
  zoneOf,
} from "./state.js";
import { when } from "./time.js";
import { waitingReleasesCard } from "./view-central-release.js";
import { windowTable } from "./windows.js";

/** @typedef {import("./types.js").Window} Window */
/** @typedef {import("./types.js").PolicyChange} PolicyChange */

/** The password of an account just approved, shown once on the redrawn page, then forgotten. */
/** @type {string | undefined} */
let accountPassword;

export async function approvals() {
  const canDecide = ["securityAdmin", "branchManager"].includes(role());
  const [waiting, upcoming, changes, names, proposals] = await Promise.all([
    optional(() => allPages("/windows?status=requested")),
    optional(() => allPages("/windows?status=approved")),
    optional(() => api("/policy-changes").then((page) => page.items)),
    personNames(),
    optional(() => api("/proposals?status=pending").then((page) => page.items)),
  ]);
  const releases = await optional(() => waitingReleasesCard(names.name), null);
  /**
   * A power change (officer account, role, enabling, lock right, forced reset) takes effect only
   * when a second, independent officer approves it.
   * @param {{ id: string }} p
   * @param {"approve" | "reject"} verdict
   */
  const decideProposal = (p, verdict) =>
    change(
      () =>
        api(`/proposals/${encodeURIComponent(p.id)}/${verdict}`, {
          method: "POST",
          ...(verdict === "reject" ? { body: {} } : {}),
        }),
      /** @param {{ generatedPassword?: string } | undefined} answer */
      (answer) => {
        // A new account's password goes to the approving officer only, shown once.
        if (answer?.generatedPassword) {
          accountPassword = answer.generatedPassword;
        }
        return verdict === "approve"
          ? t("Approved; the change took effect")
          : t("Proposal rejected");
      },
      approvals,
    );
  /**
   * @param {Window} w
   * @param {"approve" | "reject"} verdict
   */
  const decide = (w, verdict) =>
    change(
      () => api(`/windows/${encodeURIComponent(w.id)}/${verdict}`, { method: "POST", body: {} }),
      /** @param {Window} decided */
      (decided) =>
        verdict === "reject"
          ? t("Window rejected")
          : decided?.status === "requested"
            ? t(
                "Your approval is recorded ({given} of {required}); another officer must approve too",
                {
                  given: decided.approvedBy.length,
                  required: decided.approvalsRequired,
                },
              )
            : t("Window approved"),
      approvals,
    );
  /** @param {Window} w */
  const revoke = (w) => {
    const run = change(
      () =>
        api(`/windows/${encodeURIComponent(w.id)}/revoke`, {
          method: "POST",
          body: { reason: "revoked from the dashboard" },
        }),
      t("Window revoked; the lock is told"),
      approvals,
    );
    /** @param {Event} event */
    return (event) => {
      const question = t(
        "Revoke the window for {container} from {from}? The crew cannot open with it any more.",
        {
          container: containerName(w.containerId),
          from: when(w.notBefore, zoneOf(w.containerId)),
        },
      );
      if (confirmed(question)) run(event);
    };
  };
  /**
   * @param {PolicyChange} c
   * @param {"approve" | "reject"} verdict
   */
  const decidePolicy = (c, verdict) =>
    change(
      () => api(`/policy-changes/${encodeURIComponent(c.id)}/${verdict}`, { method: "POST" }),
      verdict === "approve" ? t("Policy change approved") : t("Policy change rejected"),
      approvals,
    );
  const sections = [
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("Windows awaiting approval")),
      windowTable(
        /** @type {Window[]} */ (waiting),
        canDecide
          ? (w) =>
              h(
                "span",
                { class: "row" },
                h("button", { type: "button", onclick: decide(w, "approve") }, t("Approve")),
                h(
                  "button",
                  { type: "button", class: "secondary", onclick: decide(w, "reject") },
                  t("Reject"),
                ),
              )
          : null,
        names.name,
      ),
    ),
    h(
      "section",
      { class: "card", id: "approved-windows" },
      h("h2", {}, t("Approved windows")),
      windowTable(
        /** @type {Window[]} */ (upcoming),
        canDecide
          ? (w) =>
              h(
                "button",
                { type: "button", class: "danger", dataset: { revoke: w.id }, onclick: revoke(w) },
                t("Revoke"),
              )
          : null,
        names.name,
      ),
    ),
    h(
      "section",
      { class: "card", id: "policy-changes" },
      h("h2", {}, t("Lock policy changes")),
      h(
        "p",
        { class: "muted" },
        t(
          "A change that weakens a lock (shorter delay, fewer eyes, a time lock removed) goes out only after a second, distinct bank officer approves it.",
        ),
      ),
      table(
        [
          { label: t("Container"), render: (c) => containerName(c.containerId) },
          { label: t("Change"), render: (c) => describePolicyChange(c) },
          {
            label: t("Requested"),
            render: (c) =>
              `${when(c.requestedAt, zoneOf(c.containerId))} · ${names.name(c.requestedBy)}${c.reason ? ` · ${c.reason}` : ""}`,
          },
          {
            label: t("Status"),
            render: (c) =>
              c.status === "pending"
                ? t("awaiting approval ({given}/{required})", {
                    given: c.approvedBy.length,
                    required: c.approvalsRequired,
                  })
                : `${t(c.status)}${c.locks.length ? ` · ${c.locks.map((/** @type {{ deviceId: string, status: string }} */ l) => `${l.deviceId}: ${t(l.status)}`).join(", ")}` : ""}`,
          },
          {
            label: t("Actions"),
            render: (c) =>
              c.status === "pending" && canDecide
                ? h(
                    "span",
                    { class: "row" },
                    h(
                      "button",
                      {
                        type: "button",
                        dataset: { approveChange: c.id },
                        onclick: decidePolicy(c, "approve"),
                      },
                      t("Approve"),
                    ),
                    role() === "securityAdmin"
                      ? h(
                          "button",
                          {
                            type: "button",
                            class: "secondary",
                            onclick: decidePolicy(c, "reject"),
                          },
                          t("Reject"),
                        )
                      : null,
                  )
                : "",
          },
        ],
        [.../** @type {PolicyChange[]} */ (Array.isArray(changes) ? changes : [])].sort((a, b) =>
          b.requestedAt.localeCompare(a.requestedAt),
        ),
        (c) => ({ dataset: { changeId: c.id, status: c.status } }),
      ),
      role() === "securityAdmin" ? policyForm() : null,
    ),
  ];
  /** @typedef {{ id: string, kind: string, summary: string, proposedAt: string, proposedBy: string }} Proposal */
  const password = accountPassword;
  accountPassword = undefined;
  sections.unshift(
    password === undefined
      ? h("p", { id: "proposal-password", hidden: true })
      : h(
          "p",
          { id: "proposal-password", class: "card" },
          t("Account opened. Password (shown once, hand it over in person):"),
          " ",
          h("code", { class: "token" }, password),
        ),
    h(
      "section",
      { class: "card", id: "proposals" },
      h("h2", {}, t("Power changes awaiting a second officer")),
      h(
        "p",
        { class: "muted" },
        t(
          "New officer accounts, roles, enabling a person and lock rights take effect only when a second, independent officer approves.",
        ),
      ),
      table(
        [
          { label: t("Change"), render: (/** @type {Proposal} */ p) => p.summary },
          {
            label: t("Proposed"),
            render: (/** @type {Proposal} */ p) =>
              `${when(p.proposedAt)} · ${names.name(p.proposedBy)}`,
          },
          {
            label: "",
            render: (/** @type {Proposal} */ p) =>
              canDecide
                ? h(
                    "span",
                    { class: "row" },
                    h(
                      "button",
                      {
                        type: "button",
                        dataset: { approveProposal: p.id },
                        onclick: decideProposal(p, "approve"),
                      },
                      t("Approve"),
                    ),
                    h(
                      "button",
                      { type: "button", class: "secondary", onclick: decideProposal(p, "reject") },
                      t("Reject"),
                    ),
                  )
                : "",
          },
        ],
        /** @type {Proposal[]} */ (Array.isArray(proposals) ? proposals : []),
        (/** @type {Proposal} */ p) => ({ dataset: { proposalId: p.id, kind: p.kind } }),
      ),
    ),
  );
  viewArea().replaceChildren(...(releases ? [releases] : []), ...sections);
}

/** @type {Array<[ "timeDelayMin" | "confirmationWindowMin" | "duressDelayMin" | "timeBackwardSecPerDay", string, Record<string, unknown>, { optional?: boolean }?]>} */
const POLICY_FIELDS = [
  ["timeDelayMin", "Time delay (min)", { type: "number", min: 0, max: 99 }],
  ["confirmationWindowMin", "Confirmation window (min)", { type: "number", min: 1, max: 19 }],
  // Unset (empty) by default: a duress opening then runs on the time delay, indistinguishable.
  [
    "duressDelayMin",
    "Duress delay (min)",
    { type: "number", min: 0, max: 99, placeholder: "time delay" },
    { optional: true },
  ],
  // Unset: the lock's default (60 s); raising it weakens the lock (two approvers).
  [
    "timeBackwardSecPerDay",
    "Clock back per day (s)",
    { type: "number", min: 0, max: 3600, placeholder: "60" },
    { optional: true },
  ],
];

/**
 * The form's value of a policy field: a number, or undefined for an empty optional field
 * (unset, not 0).
 * @param {HTMLInputElement | undefined} input
 */
function fieldValue(input) {
  return input === undefined || input.value === "" ? undefined : Number(input.value);
}

/** @param {PolicyChange} c */
function describePolicyChange(c) {
  if (c.kind !== "policy")
    return c.kind === "holidays" ? t("holiday calendar") : t("time-lock schedule");
  const p = /** @type {Record<string, unknown>} */ (c.proposed ?? {});
  const parts = [
    t("delay {n} min", { n: String(p.timeDelayMin) }),
    t(
      { single: "single control", dual: "dual control", triple: "triple control" }[
        String(p.dualControl)
      ] ?? String(p.dualControl),
    ),
    t("window {n} min", { n: String(p.confirmationWindowMin) }),
    p.duressDelayMin === undefined
      ? null
      : t("duress delay {n} min", { n: String(p.duressDelayMin) }),
    p.mixedParties ? t("mixed parties") : null,
  ].filter(Boolean);
  const weaker = c.weakened?.length ? ` — ${t("weakens")}: ${c.weakened.join("; ")}` : "";
  return `${parts.join(", ")}${weaker}`;
}

/**
 * Proposing a container's new opening policy, starting from the policy it has now. A proposal
 * that changes nothing is refused before sending, and a reason is required.
 */
function policyForm() {
  const container = h(
    "select",
    { name: "containerId", required: true },
    store.containers.map((c) => h("option", { value: c.id }, c.name)),
  );
  const inputs = Object.fromEntries(
    POLICY_FIELDS.map(([name, , attributes, field]) => [
      name,
      h("input", { name, required: !field?.optional, ...attributes }),
    ]),
  );
  const eyes = h(
    "select",
    { name: "dualControl" },
    ["single", "dual", "triple"].map((mode) => h("option", { value: mode }, t(`${mode} control`))),
  );
  const mixed = h("input", { name: "mixedParties", type: "checkbox" });
  const reason = h("input", { name: "reason", maxlength: 500, required: true });
  const problem = h("p", { class: "error", role: "alert", id: "policy-problem" });
  const current = () => containerOf(container.value)?.policy;
  const fill = () => {
    const policy = current();
    if (!policy) return;
    for (const [name] of POLICY_FIELDS) {
      const input = inputs[name];
      if (input) input.value = policy[name] === undefined ? "" : String(policy[name]);
    }
    eyes.value = policy.dualControl;
    mixed.checked = policy.mixedParties;
  };
  container.addEventListener("change", fill);
  const form = h(
    "form",
    { class: "inline", id: "propose-policy" },
    h("label", {}, `${t("Container")} `, container),
    POLICY_FIELDS.map(([name, label]) => h("label", {}, `${t(label)} `, inputs[name])),
    h("label", {}, `${t("Control")} `, eyes),
    h("label", {}, `${t("Mixed parties")} `, mixed),
    h("label", {}, `${t("Reason (required)")} `, reason),
    h("button", { type: "submit" }, t("Propose change")),
    problem,
  );
  const propose = change(
    async () => {
      const before = current();
      /** @type {Record<string, unknown>} */
      const policy = {
        ...before,
        ...Object.fromEntries(POLICY_FIELDS.map(([name]) => [name, fieldValue(inputs[name])])),
        dualControl: eyes.value,
        mixedParties: mixed.checked,
      };
      // An empty optional field is unset, not 0.
      for (const [name] of POLICY_FIELDS) if (policy[name] === undefined) delete policy[name];
      const proposed = await api("/policy-changes", {
        method: "POST",
        body: { containerId: container.value, kind: "policy", policy, reason: reason.value.trim() },
      });
      // The container list carries the policy the locks now have.
      if (proposed.status !== "pending") await loadLocks();
    },
    t("Policy change proposed"),
    approvals,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const before = current();
    const unchanged =
      before !== undefined &&
      POLICY_FIELDS.every(([name]) => fieldValue(inputs[name]) === before[name]) &&
      eyes.value === before.dualControl &&
      mixed.checked === before.mixedParties;
    if (unchanged) {
      problem.textContent = t("This is the policy the container has now; change something first.");
      return;
    }
    if (reason.value.trim() === "") {
      problem.textContent = t("Say why the policy changes.");
      toast(problem.textContent);
      return;
    }
    problem.textContent = "";
    propose(event);
  });
  fill();
  return h("div", {}, h("h2", {}, t("Propose a change")), form);
}
