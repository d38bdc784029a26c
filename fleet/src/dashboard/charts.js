// @ts-check
// Charts where people would rather look than read, drawn by uPlot (served by the fleet from
// its npm dependency, fleet/src/routes/dashboard.ts): openings per day, alarms per branch, and
// CIT access windows per day against the contract's standing windows. Each chart comes with
// its numbers as a table, for screen readers and for anyone who wants the figures.
import { allPages, api, optional } from "./api.js";
import { h, table } from "./dom.js";
import { locale, t } from "./i18n.js";
import { branchOf, store } from "./state.js";
import { localDate, nextDay } from "./time.js";
import uPlot from "./uplot.esm.js";

/** Colours with AA contrast on white, told apart also by position (side-by-side bars). */
const COLOURS = ["#1f4e79", "#b35900"];

/**
 * @typedef {object} Series
 * @property {string} label
 * @property {number[]} values one per category
 */

/**
 * A bar chart over named categories (days, branches), one bar per series side by side.
 * @param {HTMLElement} into an element already on the page (its width sets the chart's)
 * @param {string[]} categories
 * @param {Series[]} series
 */
function drawBars(into, categories, series) {
  const width = Math.max(260, Math.min(760, into.clientWidth || 600));
  const size = 0.7 / series.length;
  /** @type {uPlot.Options} */
  const options = {
    width,
    height: 220,
    legend: { show: series.length > 1, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: false, range: [-0.5, categories.length - 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
    },
    axes: [
      {
        incrs: [1, 2, 5, 7, 14, 30],
        space: 48,
        values: (_u, splits) => splits.map((i) => categories[i] ?? ""),
      },
      { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500], space: 30 },
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        fill: COLOURS[i % COLOURS.length],
        stroke: COLOURS[i % COLOURS.length],
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars?.({
          size: [size, 80],
          align: series.length === 1 ? 0 : i === 0 ? -1 : 1,
        }),
      })),
    ],
  };
  into.replaceChildren();
  new uPlot(options, [categories.map((_, i) => i), ...series.map((s) => s.values)], into);
}

/**
 * A chart card part: caption, the drawing, and its numbers.
 * @param {string} id
 * @param {string} caption
 * @param {string} categoryLabel
 * @param {string[]} categories
 * @param {Series[]} series
 */
function figure(id, caption, categoryLabel, categories, series) {
  const plot = h("div", { class: "chart-plot" });
  /** @typedef {{ category: string, values: number[] }} Row */
  /** @type {Row[]} */
  const rows = categories.map((category, i) => ({
    category,
    values: series.map((s) => s.values[i] ?? 0),
  }));
  const numbers = table(
    [
      { label: categoryLabel, render: (r) => r.category },
      ...series.map((s, k) => ({
        label: s.label,
        render: (/** @type {Row} */ r) => String(r.values[k]),
      })),
    ],
    rows,
  );
  const element = h(
    "figure",
    { class: "chart", dataset: { chart: id } },
    h("figcaption", {}, caption),
    plot,
    h("details", {}, h("summary", {}, t("The numbers")), numbers),
  );
  return { element, draw: () => drawBars(plot, categories, series) };
}

/**
 * Every local day from `from` to `to` inclusive ("YYYY-MM-DD").
 * @param {string} from
 * @param {string} to
 */
function daysBetween(from, to) {
  const days = [];
  for (let d = from; d <= to && days.length < 400; d = nextDay(d)) days.push(d);
  return days;
}

/** @param {string} date "YYYY-MM-DD" → "06.12." / "06/12" */
function shortDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { day: "2-digit", month: "2-digit", timeZone: "UTC" })
    .format(new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1)))
    .replace(/\.$/, ".");
}

/**
 * @param {Map<string, number>} counts
 * @param {string} key
 */
function bump(counts, key) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * The three charts for a period of whole local days, drawn into `into` (already on the page).
 * @param {HTMLElement} into
 * @param {{ from: string, to: string, fromIso: string, toIso: string, zone: string, containerId: string }} period
 */
export async function drawCharts(into, period) {
  const params = new URLSearchParams({ format: "json", from: period.fromIso, to: period.toIso });
  if (period.containerId) params.set("containerId", period.containerId);
  /** @type {[import("./types.js").Report, import("./types.js").Report, import("./types.js").Window[]]} */
  const [openings, alarms, windows] = await Promise.all([
    api(`/reports/openings?${params}`),
    api(`/reports/alarms?${params}`),
    optional(() => allPages("/windows", 2000)),
  ]);
  const days = daysBetween(period.from, period.to);
  const labels = days.map(shortDay);

  // one opening is one row per person taking part: count each (lock, opening no.) once
  const perDay = new Map();
  const seen = new Set();
  for (const row of openings.table.rows) {
    const key = `${row.lock}#${row.openingNumber}`;
    if (seen.has(key) || typeof row.at !== "string") continue;
    seen.add(key);
    bump(perDay, localDate(Date.parse(row.at), period.zone));
  }

  const perBranch = new Map();
  for (const row of alarms.table.rows) {
    const lock = typeof row.lock === "string" ? store.devices.get(row.lock) : undefined;
    const branch = branchOf(lock?.containerId)?.name;
    bump(perBranch, branch ?? String(row.container ?? t("unknown")));
  }
  const branches = [...perBranch.keys()].sort((a, b) => a.localeCompare(b));

  const inside = new Map();
  const outside = new Map();
  for (const w of windows) {
    if (period.containerId && w.containerId !== period.containerId) continue;
    const date = localDate(Date.parse(w.notBefore), period.zone);
    if (date < period.from || date > period.to) continue;
    bump(w.autoApproved ? inside : outside, date);
  }

  const figures = [
    figure("openings", t("Openings per day"), t("Day"), labels, [
      { label: t("Openings"), values: days.map((d) => perDay.get(d) ?? 0) },
    ]),
    figure("alarms", t("Alarms per branch"), t("Branch"), branches, [
      { label: t("Alarms"), values: branches.map((b) => perBranch.get(b) ?? 0) },
    ]),
    figure(
      "cit",
      t("CIT access windows per day, against the contracted standing windows"),
      t("Day"),
      labels,
      [
        {
          label: t("inside the standing windows (approved automatically)"),
          values: days.map((d) => inside.get(d) ?? 0),
        },
        {
          label: t("outside them (the bank decides)"),
          values: days.map((d) => outside.get(d) ?? 0),
        },
      ],
    ),
  ];
  into.replaceChildren(...figures.map((f) => f.element));
  for (const f of figures) f.draw();
}
