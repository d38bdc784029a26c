// @ts-check
// Reports for a period of whole local days (first to last day inclusive, in the bank's time
// zone) and a container: shown on the page, or downloaded as CSV, PDF or JSON.
import { api, errorText } from "./api.js";
import { drawCharts } from "./charts.js";
import { h, table } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";
import { store, viewArea } from "./state.js";
import { day, localDate, localToIso, nextDay, shownZone, when } from "./time.js";

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** @typedef {import("./types.js").Report} Report */
/** @typedef {import("./types.js").ReportTable} ReportTable */

export async function reports() {
  const kinds = /** @type {Array<{ kind: string, title: string }>} */ (await api("/reports"));
  const zone = shownZone();
  const today = Date.now();
  const kind = h(
    "select",
    { name: "kind", id: "report-kind" },
    kinds.map((k) => h("option", { value: k.kind }, t(k.title))),
  );
  const from = h("input", {
    name: "from",
    type: "date",
    value: localDate(today - 30 * 24 * 3600 * 1000, zone),
  });
  const to = h("input", { name: "to", type: "date", value: localDate(today, zone) });
  const container = h(
    "select",
    { name: "containerId" },
    h("option", { value: "" }, t("All containers")),
    store.containers.map((c) => h("option", { value: c.id }, c.name)),
  );
  const links = h("p", { class: "row", id: "report-links" });
  const shown = h("div", { id: "report-view" });
  /** @param {string} format */
  const query = (format) => {
    // The last day is included: the period ends at the start of the next local day.
    const params = new URLSearchParams({
      format,
      from: localToIso(from.value, zone),
      to: localToIso(nextDay(to.value), zone),
    });
    if (container.value) params.set("containerId", container.value);
    // CSV and PDF carry local times and the page's language; JSON stays in UTC for programs
    if (format !== "json") {
      params.set("timeZone", zone);
      params.set("lang", currentLanguage());
    }
    return `/reports/${encodeURIComponent(kind.value)}?${params}`;
  };
  /**
   * @param {ReportTable} report
   * @param {string} [id]
   */
  const reportTable = (report, id) =>
    h(
      "div",
      { class: "report-table", id },
      h("h2", {}, t(report.title)),
      table(
        report.columns.map((column) => ({
          label: t(column.label),
          render: (/** @type {Record<string, unknown>} */ row) => {
            const value = row[column.key];
            return typeof value === "string" && INSTANT.test(value)
              ? when(value, zone)
              : String(value ?? "");
          },
        })),
        report.rows,
      ),
    );
  const show = async () => {
    shown.replaceChildren(h("p", { class: "muted" }, t("Loading…")));
    try {
      /** @type {Report} */
      const report = await api(query("json"));
      const lastDay = new Date(Date.parse(report.to) - 1).toISOString();
      shown.replaceChildren(
        h(
          "p",
          { class: "muted", id: "report-period" },
          t("{org} · {from} to {to} inclusive ({zone})", {
            org: report.orgName,
            from: day(report.from, zone),
            to: day(lastDay, zone),
            zone,
          }),
        ),
        ...report.summaries.map((summary) => reportTable(summary)),
        reportTable(report.table, "report-main"),
        ...report.notes.map((note) => h("p", { class: "muted" }, note)),
      );
    } catch (error) {
      shown.replaceChildren(h("p", { class: "error" }, errorText(error)));
    }
  };
  const update = () => {
    links.replaceChildren(
      h("button", { type: "button", id: "report-show", onclick: show }, t("Show")),
      h("a", { id: "report-csv", href: `/api/v1${query("csv")}`, download: "" }, t("Download CSV")),
      h("a", { id: "report-pdf", href: `/api/v1${query("pdf")}`, download: "" }, t("Download PDF")),
      h(
        "a",
        { id: "report-json", href: `/api/v1${query("json")}`, target: "_blank", rel: "noopener" },
        "JSON",
      ),
    );
    shown.replaceChildren();
  };
  const charts = h("div", { class: "charts", id: "report-charts" });
  const redrawCharts = async () => {
    try {
      await drawCharts(charts, {
        from: from.value,
        to: to.value,
        fromIso: localToIso(from.value, zone),
        toIso: localToIso(nextDay(to.value), zone),
        zone,
        containerId: container.value,
      });
    } catch (error) {
      charts.replaceChildren(h("p", { class: "error" }, errorText(error)));
    }
  };
  for (const input of [kind, from, to, container]) input.addEventListener("change", update);
  for (const input of [from, to, container]) input.addEventListener("change", redrawCharts);
  update();
  viewArea().replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("Reports")),
      h(
        "div",
        { class: "inline" },
        h("label", {}, `${t("Report")} `, kind),
        h("label", {}, `${t("From")} `, from),
        h("label", {}, `${t("To (inclusive)")} `, to),
        h("label", {}, `${t("Container")} `, container),
        h("span", { class: "muted" }, t("days in {zone}", { zone })),
      ),
      links,
      shown,
    ),
    h("section", { class: "card" }, h("h2", {}, t("At a glance")), charts),
  );
  // drawn once the card is on the page: the charts take its width
  await redrawCharts();
}
