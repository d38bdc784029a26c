// @ts-check
// Small pieces the set-up forms share: a labelled field, a select from pairs, a form that
// checks in words before sending and shows the fleet's answer in words.
import { errorText } from "./api.js";
import { h, toast } from "./dom.js";

/**
 * @param {string} label
 * @param {HTMLElement} input
 */
export function field(label, input) {
  return h("label", {}, `${label} `, input);
}

/**
 * @param {string} name
 * @param {Array<[string, string]>} options value, text
 * @param {Record<string, unknown>} [attributes]
 */
export function choice(name, options, attributes = {}) {
  return h(
    "select",
    { name, ...attributes },
    options.map(([value, text]) => h("option", { value }, text)),
  );
}

/**
 * A form that runs `check` (problems in words; empty when fine) before `send`, then says `done`.
 * @param {string} id
 * @param {import("./dom.js").Child[]} fields
 * @param {string} submit button text
 * @param {{ check?: () => Array<string | null | false>, send: () => Promise<unknown>, done: (answer: any) => string | void, after?: (answer: any) => unknown }} steps
 */
export function checkedForm(id, fields, submit, steps) {
  const problem = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    // the checks below speak in the page's language; the browser's own bubbles are off
    { class: "inline", id, novalidate: true },
    fields,
    h("button", { type: "submit" }, submit),
    problem,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problems = (steps.check?.() ?? []).filter(Boolean);
    problem.textContent = problems.join(" ");
    if (problems.length > 0) return;
    try {
      const answer = await steps.send();
      const said = steps.done(answer);
      if (said) toast(said);
      await steps.after?.(answer);
    } catch (error) {
      problem.textContent = errorText(error);
    }
  });
  return form;
}

/**
 * The IANA time zones this browser knows, the given one first.
 * @param {string} preferred
 */
export function timeZones(preferred) {
  /** @type {string[]} */
  let zones = [];
  try {
    zones = /** @type {any} */ (Intl).supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  return [preferred, ...zones.filter((zone) => zone !== preferred)];
}
