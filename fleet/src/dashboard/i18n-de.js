// @ts-check
// The dashboard in German: English text → German text. Placeholders `{name}` stay as they are.

/** @type {Record<string, string>} */
export const GERMAN = {};
