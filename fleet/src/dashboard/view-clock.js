// @ts-check
// The lock's clock on the lock panel: the drift the fleet measured, and corrections beyond what a
// time sync may do — a security admin proposes one for the measured drift, a second,
// independent officer approves, and only then does the signed, confirmed time.set go out.
import { api, errorText } from "./api.js";
import { h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { role } from "./state.js";
import { when } from "./time.js";

/**
 * @typedef {{ id: string, status: string, requestedAt: string, confirmJumpSec: number,
 *   reason: string, result?: { error?: { code?: string } } | null }} ClockCorrection
 */

/**
 * @param {{ deviceId: string, clockDriftMs?: number | null }} lock
 * @returns {HTMLElement[]}
 */
export function clockSection(lock) {
  const path = `/devices/${encodeURIComponent(lock.deviceId)}/clock-corrections`;
  const drift = lock.clockDriftMs;
  const measured = h(
    "p",
    { id: "lock-clock" },
    drift === null || drift === undefined
      ? t("Clock not measured yet.")
      : t("Clock {n} s {direction} (measured by the fleet).", {
          n: String(Math.abs(Math.round(drift / 1000))),
          direction: drift >= 0 ? t("fast") : t("slow"),
        }),
  );
  const list = h("div", { id: "clock-corrections" });
  /**
   * @param {ClockCorrection} correction
   * @param {"approve" | "reject"} verb
   */
  const decide = (correction, verb) => async () => {
    try {
      await api(`/clock-corrections/${encodeURIComponent(correction.id)}/${verb}`, {
        method: "POST",
      });
      toast(verb === "approve" ? t("Clock correction approved") : t("Clock correction rejected"));
    } catch (error) {
      toast(errorText(error));
    }
    await load();
  };
  /** Reloads the list; while a correction is sent but unanswered, asks again for the lock's answer. */
  const load = async (polls = 10) => {
    /** @type {{ items: ClockCorrection[] }} */
    const { items } = await api(path);
    if (polls > 0 && list.isConnected && items.some((c) => c.status === "sent"))
      setTimeout(() => void load(polls - 1).catch(() => {}), 1000);
    list.replaceChildren(
      ...items.slice(0, 5).map((c) =>
        h(
          "p",
          { class: "row", dataset: { correctionId: c.id, status: c.status } },
          `${when(c.requestedAt)} · ${t("set {n} s", { n: String(c.confirmJumpSec) })} · ${c.reason} · ${c.status}`,
          c.result?.error ? ` (${c.result.error.code})` : null,
          c.status === "pending"
            ? h(
                "button",
                {
                  type: "button",
                  dataset: { approveCorrection: c.id },
                  onclick: decide(c, "approve"),
                },
                t("Approve"),
              )
            : null,
          c.status === "pending" && role() === "securityAdmin"
            ? h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  dataset: { rejectCorrection: c.id },
                  onclick: decide(c, "reject"),
                },
                t("Reject"),
              )
            : null,
        ),
      ),
    );
  };
  /** @type {HTMLElement[]} */
  const parts = [h("h2", {}, t("Clock")), measured];
  if (role() === "securityAdmin") {
    const reason = h("input", { name: "reason", required: true, maxlength: 200 });
    const form = h(
      "form",
      { class: "inline", id: "propose-clock-correction" },
      h("label", {}, `${t("Reason")} `, reason),
      h("button", { type: "submit" }, t("Propose clock correction")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(path, { method: "POST", body: { reason: reason.value } });
        toast(t("Clock correction proposed; a second officer approves it"));
      } catch (error) {
        toast(errorText(error));
      }
      await load();
    });
    parts.push(form);
  }
  if (["securityAdmin", "branchManager"].includes(role())) {
    parts.push(list);
    load().catch((error) => {
      list.textContent = errorText(error);
    });
  }
  return parts;
}
