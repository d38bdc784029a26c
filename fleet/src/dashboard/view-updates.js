// @ts-check
// Software updates for the locks (security admin, auditor): releases the fleet keeps (signed
// offline with the release key), staged rollouts to a ring of locks, and each lock's progress
// as the lock itself reports it. A security admin proposes a rollout; a second officer starts
// it; either pauses and resumes it. Widening a started rollout's ring is proposed by one officer
// and approved by a second, like starting it.
import { api, errorText } from "./api.js";
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { role, viewArea } from "./state.js";
import { when } from "./time.js";

/**
 * @typedef {{ releaseId: string, version: string, keyId: string, targetLength: number,
 *   hardwareProfiles: string[], expiresAt: string, targetStoredAt: string | null }} Release
 * @typedef {{ deviceId: string, status: string, at: string | null, code: string | null }} LockProgress
 * @typedef {{ id: string, releaseId: string, version: string, branchId: string | null,
 *   percentage: number, status: string, proposedBy: string, approvedBy: string | null,
 *   widening: { percentage: number } | null, locks: LockProgress[] }} Rollout
 */

const LOCK_STATUS_WORDS = /** @type {Record<string, string>} */ ({
  pending: t("pending"),
  offered: t("offered"),
  refused: t("refused"),
  downloading: t("downloading"),
  verified: t("verified"),
  installed: t("installed"),
  switched: t("switched"),
  healthy: t("healthy"),
  rolledBack: t("rolled back"),
});

export async function updates() {
  const [releases, rollouts] = await Promise.all([
    api("/updates/releases").then((answer) => /** @type {Release[]} */ (answer.items)),
    api("/updates/rollouts").then((answer) => /** @type {Rollout[]} */ (answer.items)),
  ]);
  const answer = h("p", { id: "updates-answer", role: "status" });
  const officer = role() === "securityAdmin";

  /**
   * @param {string} path
   * @param {Record<string, unknown>} [body]
   */
  const act = async (path, body = {}) => {
    try {
      await api(path, { method: "POST", body });
      await updates();
    } catch (error) {
      answer.textContent = errorText(error);
    }
  };

  /** @param {Rollout} rollout */
  const actions = (rollout) => {
    if (!officer) return null;
    /** @type {Array<[string, string]>} */
    const verbs =
      rollout.status === "proposed"
        ? [
            ["approve", t("Start (second officer)")],
            ["reject", t("Reject")],
          ]
        : rollout.status === "running"
          ? [["pause", t("Pause")]]
          : rollout.status === "paused"
            ? [["resume", t("Resume")]]
            : [];
    const started = rollout.status === "running" || rollout.status === "paused";
    if (started && rollout.widening !== null)
      verbs.push(
        ["widen/approve", t("Widen (second officer)")],
        ["widen/reject", t("Reject widening")],
      );
    const widenAll =
      started &&
      rollout.widening === null &&
      (rollout.percentage < 100 || rollout.branchId !== null)
        ? h(
            "button",
            {
              type: "button",
              dataset: { rollout: rollout.id, verb: "widen" },
              onclick: () =>
                act(`/updates/rollouts/${rollout.id}/widen`, {
                  percentage: 100,
                  allBranches: true,
                }),
            },
            t("Widen to every lock"),
          )
        : null;
    return h(
      "span",
      {},
      rollout.widening === null
        ? null
        : h(
            "span",
            { class: "hint" },
            t("Widening to {percentage} % waits for a second officer", {
              percentage: rollout.widening.percentage,
            }),
          ),
      widenAll,
      ...verbs.map(([verb, label]) =>
        h(
          "button",
          {
            type: "button",
            dataset: { rollout: rollout.id, verb },
            onclick: () => act(`/updates/rollouts/${rollout.id}/${verb}`),
          },
          label,
        ),
      ),
    );
  };

  const stored = releases.filter((release) => release.targetStoredAt !== null);
  const releaseSelect = h(
    "select",
    { id: "rollout-release", required: true },
    ...stored.map((release) =>
      h("option", { value: release.releaseId }, `${release.version} (${release.releaseId})`),
    ),
  );
  const percentage = h("input", {
    id: "rollout-percentage",
    type: "number",
    min: "1",
    max: "100",
    value: "10",
    required: true,
  });
  const branch = h("input", { id: "rollout-branch", placeholder: t("all branches") });
  const propose = h(
    "form",
    {
      id: "rollout-propose",
      onsubmit: async (/** @type {Event} */ event) => {
        event.preventDefault();
        try {
          await api("/updates/rollouts", {
            method: "POST",
            body: {
              releaseId: releaseSelect.value,
              percentage: Number(percentage.value),
              ...(branch.value.trim() === "" ? {} : { branchId: branch.value.trim() }),
            },
          });
          await updates();
        } catch (error) {
          answer.textContent = errorText(error);
        }
      },
    },
    h("label", {}, t("Release"), " ", releaseSelect),
    h("label", {}, t("Branch"), " ", branch),
    h("label", {}, t("Percentage of locks"), " ", percentage),
    h("button", { type: "submit" }, t("Propose rollout")),
  );

  viewArea().replaceChildren(
    h(
      "section",
      { class: "card", id: "updates" },
      h("h1", {}, t("Software updates")),
      answer,
      h("h2", {}, t("Releases")),
      table(
        [
          { label: t("Version"), render: (r) => r.version },
          { label: t("Release key"), render: (r) => r.keyId },
          { label: t("Hardware"), render: (r) => r.hardwareProfiles.join(", ") },
          { label: t("Expires"), render: (r) => when(r.expiresAt) },
          {
            label: t("Target"),
            render: (r) => (r.targetStoredAt === null ? t("not uploaded") : `${r.targetLength} B`),
          },
        ],
        releases,
        (r) => ({ dataset: { releaseId: r.releaseId } }),
        t("No releases yet: sign one with the offline release tool and upload it."),
      ),
      officer && stored.length > 0 ? propose : null,
      h("h2", {}, t("Rollouts")),
      ...rollouts.map((rollout) =>
        h(
          "article",
          { class: "card", dataset: { rolloutId: rollout.id, status: rollout.status } },
          h(
            "div",
            { class: "row spread" },
            h(
              "h3",
              {},
              t("{version} to {percentage} % of {ring}", {
                version: rollout.version,
                percentage: rollout.percentage,
                ring: rollout.branchId ?? t("all branches"),
              }),
            ),
            h("span", { class: "status" }, t(rollout.status)),
            actions(rollout),
          ),
          table(
            [
              { label: t("Lock"), render: (l) => l.deviceId },
              { label: t("Status"), render: (l) => LOCK_STATUS_WORDS[l.status] ?? l.status },
              { label: t("Since"), render: (l) => (l.at === null ? "" : when(l.at)) },
              { label: t("Reason"), render: (l) => l.code ?? "" },
            ],
            rollout.locks,
            (l) => ({ dataset: { deviceId: l.deviceId, status: l.status } }),
            t("No locks in this ring yet."),
          ),
        ),
      ),
    ),
  );
}
