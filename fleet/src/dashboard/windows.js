// @ts-check
// Access windows as people read them: requested → approved/scheduled → active → closed.
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { containerName, zoneOf } from "./state.js";
import { when } from "./time.js";

/** @typedef {import("./types.js").Window} Window */

/**
 * The stage a window is in, by its status and the clock: an approved window (or one whose
 * grant reached the lock) is "scheduled" until it begins and "active" only within its times.
 * @param {Pick<Window, "status" | "notBefore" | "notAfter" | "approvedBy" | "approvalsRequired">} w
 * @param {number} [now]
 * @returns {{ stage: string, label: string }}
 */
export function windowStage(w, now = Date.now()) {
  if (w.status === "requested") {
    return {
      stage: "requested",
      label: t("requested ({given} of {required} approvals)", {
        given: w.approvedBy.length,
        required: w.approvalsRequired,
      }),
    };
  }
  if (w.status === "approved" || w.status === "active") {
    if (now < Date.parse(w.notBefore))
      return { stage: "scheduled", label: t("approved, scheduled") };
    if (now < Date.parse(w.notAfter)) return { stage: "active", label: t("active") };
    return { stage: "ended", label: t("ended") };
  }
  /** @type {Record<string, string>} */
  const words = {
    rejected: "rejected",
    closed: "closed",
    revoked: "revoked",
    expired: "expired",
  };
  return { stage: w.status, label: t(words[w.status] ?? w.status) };
}

/**
 * @param {Window[]} windows
 * @param {((w: Window) => import("./dom.js").Child) | null} actions
 * @param {(id: string) => string} [name]
 */
export function windowTable(windows, actions, name = (id) => id) {
  /** @type {import("./dom.js").Column[]} */
  const columns = [
    { label: t("Container"), render: (w) => containerName(w.containerId) },
    { label: t("From"), render: (w) => when(w.notBefore, zoneOf(w.containerId)) },
    { label: t("To"), render: (w) => when(w.notAfter, zoneOf(w.containerId)) },
    { label: t("Purpose"), render: (w) => w.purpose },
    {
      label: t("Crew"),
      render: (w) => (w.crewNames.length ? w.crewNames : w.crew.map(name)).join(", "),
    },
    {
      label: t("Status"),
      render: (w) => {
        const stage = windowStage(w);
        return h("span", { class: "stage", dataset: { stage: stage.stage } }, stage.label);
      },
    },
  ];
  if (actions) columns.push({ label: t("Actions"), render: actions });
  return table(columns, windows, (w) => ({
    dataset: { windowId: w.id, status: w.status, stage: windowStage(w).stage },
  }));
}
