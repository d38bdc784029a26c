// @ts-check
// Talking to the fleet: JSON over fetch with the session cookie, live events over SSE.
import { GERMAN_ERRORS } from "./errors-de.js";
import { currentLanguage, t } from "./i18n.js";

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} path under /api/v1
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>} the parsed answer; each view states the shape it expects
 */
export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(`/api/v1${path}`, {
    method,
    credentials: "same-origin",
    headers:
      body === undefined
        ? { accept: "application/json" }
        : { "content-type": "application/json", accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text === "" ? null : JSON.parse(text);
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code ?? "E_HTTP",
      data?.message ?? `HTTP ${response.status}`,
    );
  }
  return data;
}

/**
 * Every item of a paginated list (`{items, nextCursor}`), up to `max`.
 * @template T
 * @param {string} path
 * @param {number} [max]
 * @returns {Promise<T[]>}
 */
export async function allPages(path, max = 1000) {
  /** @type {T[]} */
  const items = [];
  /** @type {string | null} */
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    /** @type {import("./types.js").Page<T>} */
    const page = await api(
      `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor !== null && items.length < max);
  return items;
}

/**
 * A list that a part of the fleet may not offer (or not to this role): empty instead of failing.
 * @template T
 * @param {() => Promise<T>} load
 * @param {T} [fallback]
 * @returns {Promise<T>}
 */
export async function optional(load, fallback = /** @type {T} */ (/** @type {unknown} */ ([]))) {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return fallback;
    throw error;
  }
}

/**
 * The sentence for a stable error code in the page's language; in English, or for a code
 * without a German sentence, the fleet's own.
 * @param {string} code
 * @param {string} message the fleet's (or the lock's) English sentence
 */
export function errorSentence(code, message) {
  return (currentLanguage() === "de" && GERMAN_ERRORS[code]) || message;
}

/**
 * An error as a person reads it: the fleet's sentence, with its code for support.
 * @param {unknown} error
 */
export function errorText(error) {
  if (error instanceof ApiError)
    return `${errorSentence(error.code, error.message)} (${error.code})`;
  if (error instanceof TypeError) return t("The fleet cannot be reached. Check the network.");
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the live stream; `handlers` maps event names to functions taking the parsed data.
 * @param {Record<string, (data: any) => void>} handlers
 * @param {(up: boolean) => void} onStatus
 */
export function connectLive(handlers, onStatus) {
  const source = new EventSource("/api/v1/events");
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) =>
      handler(JSON.parse(/** @type {MessageEvent} */ (event).data)),
    );
  }
  source.addEventListener("open", () => onStatus(true));
  source.addEventListener("error", () => onStatus(false));
  return () => source.close();
}
