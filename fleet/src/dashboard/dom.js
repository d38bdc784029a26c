// @ts-check
// Building DOM without HTML strings: every value from the fleet becomes a text node.
import { t } from "./i18n.js";

/** @typedef {Node | string | number | null | undefined | false | ChildList} Child */
/** @typedef {Array<Node | string | number | null | undefined | false | Array<unknown>>} ChildList */
/**
 * @typedef {object} Column
 * @property {string} label
 * @property {(row: any) => Child} render
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attributes] `on…` functions become listeners, `dataset` data-*
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function")
      element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === "dataset") {
      for (const [key, item] of Object.entries(/** @type {object} */ (value))) {
        if (item !== undefined && item !== null) element.dataset[key] = String(item);
      }
    } else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {HTMLElement} element
 * @param {unknown[]} children
 */
function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * A table that scrolls sideways inside its card on a narrow screen instead of widening the page.
 * @template R
 * @param {Column[]} columns
 * @param {R[]} rows
 * @param {(row: R) => Record<string, unknown>} [rowAttributes]
 * @param {string} [empty] what an empty table says
 */
export function table(columns, rows, rowAttributes = () => ({}), empty = t("Nothing to show.")) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((column) => h("th", { scope: "col" }, column.label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.length === 0
          ? h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, empty))
          : rows.map((row) =>
              h(
                "tr",
                rowAttributes(row),
                columns.map((column) =>
                  h("td", { dataset: { label: column.label } }, column.render(row)),
                ),
              ),
            ),
      ),
    ),
  );
}

/**
 * Replaces an element's children; null, undefined and false children are left out.
 * @param {Element} element
 * @param {...Child} children
 */
export function replace(element, ...children) {
  element.replaceChildren();
  append(/** @type {HTMLElement} */ (element), children);
}

/**
 * An element of the page shell (index.html), which is always there.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`page element #${id} missing`);
  return element;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/** @param {string} message */
export function toast(message) {
  const element = $("toast");
  element.textContent = message;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    element.hidden = true;
  }, 4000);
}

/**
 * Asks before an action that cannot be taken back quietly (block, time lock, revoke, delete).
 * @param {string} question
 */
export function confirmed(question) {
  return window.confirm(question);
}
