/**
 * The fleet's HTTP API as the demo uses it: a person logs in (session cookie) and calls the
 * same JSON endpoints the dashboard and integrations call. A refused call becomes a
 * DemoError naming the endpoint and the fleet's own `{code, message}`.
 */
import { errorBodyDetail } from "@lockfleet/protocol";
import { DemoError } from "./errors.js";

export const API = "/api/v1";

export class FleetClient {
  #cookie: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly who = "anonymous",
  ) {}

  /** Logs in as `email`; later calls carry the session. */
  static async login(baseUrl: string, email: string, password: string): Promise<FleetClient> {
    const client = new FleetClient(baseUrl, email);
    const response = await client.#send("POST", `${API}/auth/login`, { email, password });
    const cookie = response.headers
      .getSetCookie()
      .map((header) => header.split(";")[0] ?? "")
      .find((pair) => pair.startsWith("lf_session="));
    if (cookie === undefined) {
      throw new DemoError(
        "E_DEMO_LOGIN",
        `the fleet accepted ${email} but set no lf_session cookie`,
      );
    }
    client.#cookie = cookie;
    return client;
  }

  get<T>(path: string): Promise<T> {
    return this.#json<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#json<T>("POST", path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>("PATCH", path, body);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#send(method, path, body);
    return (await response.json()) as T;
  }

  async #send(method: string, path: string, body?: unknown): Promise<Response> {
    const url = new URL(path.startsWith("/") ? path : `${API}/${path}`, this.baseUrl);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#cookie !== undefined) headers.cookie = this.#cookie;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new DemoError(
        "E_DEMO_FLEET_UNREACHABLE",
        `${method} ${url.pathname}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    // Not the fleet's error body: the text itself says what happened.
    const detail = errorBodyDetail(text) ?? text.slice(0, 300);
    const refusal = fleetErrorBody(text);
    const missing =
      response.status === 404 &&
      refusal?.code === "E_NOT_FOUND" &&
      refusal.message.startsWith("no route ");
    throw new DemoError(
      missing ? "E_DEMO_FLEET_ROUTE_MISSING" : "E_DEMO_API",
      `${method} ${url.pathname} as ${this.who} answered ${response.status} (${detail})`,
      refusal === undefined ? undefined : { fleetCode: refusal.code },
    );
  }
}

/**
 * What a power route answered, carried out: a route that made a proposal (202 `{proposal}`)
 * has it approved by `checker`, the bank's second officer, and gives the approval's answer.
 */
export async function carriedOut<T>(
  answer: T | { proposal: { id: string } },
  checker: FleetClient,
): Promise<T> {
  if (typeof answer !== "object" || answer === null || !("proposal" in answer)) return answer as T;
  const approved = await checker.post<{ answer: T }>(
    `proposals/${encodeURIComponent(answer.proposal.id)}/approve`,
  );
  return approved.answer;
}

/** The fleet's `{code, message}` error body, read as JSON (its code is a field, not parsed from text). */
function fleetErrorBody(text: string): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown } | null;
    return typeof parsed?.code === "string"
      ? { code: parsed.code, message: String(parsed.message ?? "") }
      : undefined;
  } catch {
    return undefined;
  }
}
