// @ts-check
// The outsourcing risk register (security admin, auditor): per CIT provider and contract, the
// measured likelihood, impact, score and level, with a fresh measurement on request.
import { allPages, api, errorText } from "./api.js";
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { role, viewArea } from "./state.js";
import { when } from "./time.js";

/**
 * @typedef {{ id: string, providerName: string, contractName: string, category: string, title: string,
 *   likelihood: number, impact: number, score: number, level: string, owner: string | null,
 *   measures: string, reviewDate: string, computedAt: string }} RiskEntry
 */

export async function risk() {
  const entries = /** @type {RiskEntry[]} */ (await allPages("/risk/entries"));
  const answer = h("p", { id: "risk-answer", role: "status" });
  const recompute = h(
    "button",
    {
      type: "button",
      id: "risk-recompute",
      onclick: async () => {
        answer.textContent = t("Measuring…");
        try {
          const result = await api("/risk/recompute", { method: "POST", body: {} });
          answer.textContent = t("Measured again: {created} new, {changed} changed.", {
            created: result.created,
            changed: result.changed,
          });
          await risk();
        } catch (error) {
          answer.textContent = errorText(error);
        }
      },
    },
    t("Measure again"),
  );
  viewArea().replaceChildren(
    h(
      "section",
      { class: "card", id: "risk-register" },
      h(
        "div",
        { class: "row spread" },
        h("h1", {}, t("Risk register")),
        role() === "securityAdmin" ? recompute : null,
      ),
      answer,
      table(
        [
          { label: t("Provider"), render: (e) => e.providerName },
          { label: t("Contract"), render: (e) => e.contractName },
          { label: t("Risk"), render: (e) => e.title },
          {
            label: t("Likelihood × impact"),
            render: (e) => `${e.likelihood} × ${e.impact} = ${e.score}`,
          },
          {
            label: t("Level"),
            render: (e) => h("span", { class: "level", dataset: { level: e.level } }, t(e.level)),
          },
          { label: t("Owner"), render: (e) => e.owner ?? "" },
          { label: t("Review"), render: (e) => e.reviewDate },
          { label: t("Measured"), render: (e) => when(e.computedAt) },
        ],
        entries.slice().sort((a, b) => b.score - a.score),
        (e) => ({ dataset: { entryId: e.id, level: e.level } }),
        t("No entries yet: the register fills once a CIT contract exists and is measured."),
      ),
      h(
        "p",
        {},
        h("a", { href: "/api/v1/risk/export?format=csv", download: "" }, t("Download CSV")),
      ),
    ),
  );
}
