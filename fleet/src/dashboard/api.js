// Talking to the fleet: JSON over fetch with the session cookie, live events over SSE.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

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

/** Every item of a paginated list (`{items, nextCursor}`), up to `max`. */
export async function allPages(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await api(
      `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor !== null && items.length < max);
  return items;
}

/** A list that a part of the fleet may not offer (or not to this role): empty instead of failing. */
export async function optional(load, fallback = []) {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return fallback;
    throw error;
  }
}

/** Opens the live stream; `handlers` maps event names to functions taking the parsed data. */
export function connectLive(handlers, onStatus) {
  const source = new EventSource("/api/v1/events");
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  }
  source.addEventListener("open", () => onStatus(true));
  source.addEventListener("error", () => onStatus(false));
  return () => source.close();
}
