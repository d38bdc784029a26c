// @ts-check
// Language of the dashboard: German or English, from the browser's language, switchable and
// remembered in this browser. Texts are written in English in the code and looked up in the
// German table; a text missing there shows in English rather than not at all.
import { GERMAN } from "./i18n-de.js";

/** @typedef {"en" | "de"} Language */

const LANGUAGE_KEY = "lockfleet.language";

/** @returns {Language} */
function initialLanguage() {
  const stored = globalThis.localStorage?.getItem(LANGUAGE_KEY);
  if (stored === "de" || stored === "en") return stored;
  const wanted = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? "en"];
  return wanted.some((l) => /^de\b/i.test(l)) ? "de" : "en";
}

/** @type {Language} */
let language = initialLanguage();

export function currentLanguage() {
  return language;
}

/** @param {Language} next */
export function setLanguage(next) {
  language = next;
  globalThis.localStorage?.setItem(LANGUAGE_KEY, next);
  if (globalThis.document) document.documentElement.lang = next;
}

/**
 * The text in the current language, with `{name}` replaced from `values`.
 * @param {string} text English text, the key of the German table
 * @param {Record<string, string | number>} [values]
 */
export function t(text, values) {
  const chosen = language === "de" ? (GERMAN[text] ?? text) : text;
  if (values === undefined) return chosen;
  return chosen.replace(/\{(\w+)\}/g, (whole, name) =>
    name in values ? String(values[name]) : whole,
  );
}

/** The locale whose date and number formats go with the language. */
export function locale() {
  return language === "de" ? "de-DE" : "en-GB";
}
