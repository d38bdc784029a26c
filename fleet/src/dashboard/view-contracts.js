// @ts-check
// Contracts (CIT): the company's contracts, their containers and standing route windows.
import { allPages } from "./api.js";
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { containerName, viewArea } from "./state.js";
import { when } from "./time.js";

const DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/** @param {{ startDay: number, startTime: string, endDay: number, endTime: string }} w */
function standingWindowText(w) {
  const dayName = (/** @type {number} */ n) => t(DAYS[n - 1] ?? String(n));
  return `${dayName(w.startDay)} ${w.startTime} – ${dayName(w.endDay)} ${w.endTime}`;
}

export async function contracts() {
  const list = /** @type {import("./types.js").Contract[]} */ (await allPages("/contracts"));
  viewArea().replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("Contracts")),
      table(
        [
          { label: t("Contract"), render: (c) => c.name },
          {
            label: t("Containers"),
            render: (c) => c.containerIds.map(containerName).join(", "),
          },
          {
            label: t("Standing windows"),
            render: (c) => c.standingWindows.map(standingWindowText).join("; "),
          },
          {
            label: t("Valid"),
            render: (c) =>
              `${c.validFrom ? when(c.validFrom) : "—"} – ${c.validUntil ? when(c.validUntil) : "—"}`,
          },
          { label: t("Active"), render: (c) => (c.active ? t("yes") : t("no")) },
        ],
        list,
      ),
    ),
  );
}
