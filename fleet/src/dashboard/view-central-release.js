// @ts-check
// Central release on a lock's detail page: an officer asks with a reason and a short validity,
// a second, independent officer approves here, and the fleet sends the signed release that
// counts as the second authorisation for one opening cycle. The lock's own time delay and time
// locks still apply. The fleet enforces who may approve; the page only offers what fits.
import { api, errorSentence, errorText } from "./api.js";
import { confirmed, h, replace, table } from "./dom.js";
import { checkedForm, field } from "./forms.js";
import { t } from "./i18n.js";
import { containerName, me, role } from "./state.js";
import { when } from "./time.js";

/**
 * @typedef {object} CentralRelease
 * @property {string} id
 * @property {string} containerId
 * @property {string} deviceId
 * @property {string} reason
 * @property {number} validMinutes
 * @property {"pending" | "sent" | "confirmed" | "failed" | "rejected" | "expired"} status
 * @property {string} requestedBy
 * @property {string} requestedAt
 * @property {string | null} approvedBy
 * @property {string | null} decidedAt
 * @property {string | null} validUntil
 * @property {{ status: string, error?: { code: string, message: string } } | null} result
 */

const OFFICERS = ["securityAdmin", "branchManager"];
export const MAX_VALID_MINUTES = 30;

/**
 * @param {CentralRelease} release
 * @param {number} [now] the fleet only marks a release expired while it waits for approval
 */
export function releaseStatusWords(release, now = Date.now()) {
  const ranOut = release.validUntil !== null && Date.parse(release.validUntil) <= now;
  switch (release.status) {
    case "pending":
      return t("waiting for a second officer");
    case "sent":
      return ranOut
        ? t("approved; ran out without an answer from the lock")
        : t("approved, sent; the lock has not answered yet");
    case "confirmed":
      return ranOut
        ? t("approved; the release has run out")
        : t("approved; the lock holds the release");
    case "failed":
      return release.result?.error
        ? t("refused by the lock — {why}", {
            why: `${errorSentence(release.result.error.code, release.result.error.message)} (${release.result.error.code})`,
          })
        : t("could not be sent");
    case "rejected":
      return t("withdrawn or rejected");
    case "expired":
      return t("lapsed without approval");
  }
}

const RELEASE_CHANGED = "lockfleet-release-changed";

/**
 * Redraws the central-release card if it shows `deviceId`'s releases: the lock answered, or
 * the release ran out (live events).
 * @param {string} deviceId
 */
export function refreshCentralRelease(deviceId) {
  const card = document.getElementById("central-release");
  if (card?.dataset.deviceId === deviceId) card.dispatchEvent(new Event(RELEASE_CHANGED));
}
/**
 * The central-release card for one lock.
 * @param {{ deviceId: string, containerId: string }} lock
 * @param {string | null | undefined} zone
 * @param {(id: string | null | undefined) => string} name
 */
export async function centralReleaseCard(lock, zone, name) {
  const card = h("section", {
    class: "card",
    id: "central-release",
    dataset: { deviceId: lock.deviceId },
  });
  const status = h("p", { class: "muted", id: "central-release-status", role: "status" });
  const list = h("div", {});
  const where = `${containerName(lock.containerId)} (${lock.deviceId})`;
  const officer = OFFICERS.includes(role());

  const reload = async () => {
    /** @type {{ items: CentralRelease[] }} */
    const answer = await api(
      `/central-releases?containerId=${encodeURIComponent(lock.containerId)}`,
    );
    replace(list, releaseTable(answer.items.slice(0, 10)));
    return answer.items;
  };
  card.addEventListener(RELEASE_CHANGED, async () => {
    try {
      const [newest] = await reload();
      // said in the status line too, so that a screen reader hears the lock's answer
      if (newest !== undefined && newest.deviceId === lock.deviceId)
        status.textContent = `${t("Central release")}: ${releaseStatusWords(newest)}`;
    } catch (error) {
      status.textContent = errorText(error);
    }
  });

  /**
   * @param {string} path
   * @param {string} question
   * @param {(release: CentralRelease) => string} said
   */
  const act = async (path, question, said) => {
    if (!confirmed(question)) return;
    status.textContent = t("Sending…");
    try {
      /** @type {CentralRelease} */
      const release = await api(path, { method: "POST", body: {} });
      status.textContent = said(release);
      await reload();
    } catch (error) {
      status.textContent = errorText(error);
    }
  };

  /** @param {CentralRelease[]} releases */
  const releaseTable = (releases) =>
    table(
      [
        { label: t("Asked"), render: (r) => when(r.requestedAt, zone) },
        { label: t("By"), render: (r) => name(r.requestedBy) },
        { label: t("Reason"), render: (r) => r.reason },
        {
          label: t("Status"),
          render: (r) => h("span", { class: "release-status" }, releaseStatusWords(r)),
        },
        { label: t("Approved by"), render: (r) => name(r.approvedBy) },
        { label: t("Valid until"), render: (r) => (r.validUntil ? when(r.validUntil, zone) : "") },
        {
          label: t("Action"),
          render: (r) => (r.status === "pending" && officer ? actions(r) : ""),
        },
      ],
      releases,
      (r) => ({ dataset: { releaseId: r.id, status: r.status } }),
    );

  /** @param {CentralRelease} release */
  const actions = (release) => {
    const own = release.requestedBy === me().principal.personId;
    return h(
      "span",
      { class: "row" },
      own
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "approve-release",
              onclick: () =>
                act(
                  `/central-releases/${encodeURIComponent(release.id)}/approve`,
                  t(
                    "Approve the central release of {where}? The fleet then supplies the second authorisation for one opening within {minutes} minutes.",
                    { where, minutes: release.validMinutes },
                  ),
                  (r) => `${t("Central release")}: ${releaseStatusWords(r)}`,
                ),
            },
            t("Approve"),
          ),
      own || role() === "securityAdmin"
        ? h(
            "button",
            {
              type: "button",
              class: "secondary reject-release",
              onclick: () =>
                act(
                  `/central-releases/${encodeURIComponent(release.id)}/reject`,
                  own
                    ? t("Withdraw this request for a central release?")
                    : t("Reject this request for a central release?"),
                  (r) => `${t("Central release")}: ${releaseStatusWords(r)}`,
                ),
            },
            own ? t("Withdraw") : t("Reject"),
          )
        : null,
    );
  };

  const reason = h("input", { name: "reason", maxlength: 200, required: true });
  const minutes = h("input", {
    name: "validMinutes",
    type: "number",
    min: 1,
    max: MAX_VALID_MINUTES,
    value: 10,
  });
  let asking = false;
  const form = checkedForm(
    "central-release-request",
    [field(t("Reason"), reason), field(t("Valid for (min)"), minutes)],
    t("Request central release"),
    {
      check: () => {
        const valid = Number(minutes.value);
        asking = false;
        return [
          reason.value.trim() === "" && t("Say why the central release is needed."),
          !(Number.isInteger(valid) && valid >= 1 && valid <= MAX_VALID_MINUTES) &&
            t("A central release is valid for 1 to {max} minutes.", { max: MAX_VALID_MINUTES }),
        ];
      },
      send: async () => {
        const question = t(
          "Ask for a central release of {where}? A second officer must approve it; then one code opens one cycle within {minutes} minutes.",
          { where, minutes: minutes.value },
        );
        if (!confirmed(question)) return null;
        asking = true;
        return api("/central-releases", {
          method: "POST",
          body: {
            containerId: lock.containerId,
            deviceId: lock.deviceId,
            reason: reason.value.trim(),
            validMinutes: Number(minutes.value),
          },
        });
      },
      done: () => {
        if (!asking) return;
        status.textContent = t("Central release asked for; a second officer must approve it.");
        reason.value = "";
      },
      after: () => (asking ? reload() : undefined),
    },
  );

  replace(
    card,
    h("h2", {}, t("Central release")),
    h(
      "p",
      { class: "muted" },
      t(
        "The fleet supplies the second authorisation for one opening cycle, after a second officer approves. The lock's time delay and time locks still apply.",
      ),
    ),
    officer ? form : null,
    status,
    list,
  );
  try {
    await reload();
  } catch (error) {
    status.textContent = errorText(error);
  }
  return card;
}

/**
 * The bank's central releases waiting for a second officer, for the Approvals page: each links
 * to its lock's page, where it is approved (null when none waits or the role sees none).
 * @param {(id: string | null | undefined) => string} name
 */
export async function waitingReleasesCard(name) {
  if (!["securityAdmin", "branchManager", "auditor"].includes(role())) return null;
  /** @type {{ items: CentralRelease[] }} */
  const answer = await api("/central-releases");
  const waiting = answer.items.filter((release) => release.status === "pending");
  if (waiting.length === 0) return null;
  return h(
    "section",
    { class: "card", id: "waiting-central-releases" },
    h("h2", {}, t("Central releases waiting for a second officer")),
    table(
      [
        {
          label: t("Container"),
          render: (r) =>
            h(
              "a",
              { href: `#lock/${encodeURIComponent(r.deviceId)}` },
              containerName(r.containerId),
            ),
        },
        { label: t("Asked"), render: (r) => when(r.requestedAt) },
        { label: t("By"), render: (r) => name(r.requestedBy) },
        { label: t("Reason"), render: (r) => r.reason },
      ],
      waiting,
      (r) => ({ dataset: { releaseId: r.id } }),
    ),
  );
}
