// @ts-check
// Contracts (CIT): the company's contracts, their containers and standing route windows.
import { allPages } from "./api.js";
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { containerName, viewArea } from "./state.js";
import { when } from "./time.js";
import { standingWindowsText } from "./view-partners.js";

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
            render: (c) => standingWindowsText(c.standingWindows),
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
