/**
 * Strict input everywhere: no type coercion of bodies, a key given twice refused, dates that do
 * not exist refused, text with lone surrogates or control characters refused — each with a
 * stable code, and nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixture, type Fixture } from "../fixtures.js";

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => f?.close());

const peopleCount = () => f.app.db.prepare("SELECT count(*) FROM people").pluck().get() as number;

function postRaw(url: string, body: string | Buffer) {
  return f.app.inject({
    method: "POST",
    url: `/api/v1${url}`,
    headers: { ...f.as("securityAdmin"), "content-type": "application/json" },
    payload: body,
  });
}

describe("bodies are refused, never coerced", () => {
  it.each([
    ["a number for a name", "123"],
    ["a boolean for a name", "true"],
    ["an array for a name", '["x"]'],
  ])("%s: E_SCHEMA and nothing stored", async (_what, value) => {
    const before = peopleCount();
    const response = await postRaw("/people", `{"name": ${value}}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_SCHEMA");
    expect(peopleCount()).toBe(before);
  });

  it('a number given as text is refused (ttlMinutes: "60")', async () => {
    const response = await postRaw(
      "/enrolment-tokens",
      JSON.stringify({ containerId: f.container.id, ttlMinutes: "60" }),
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_SCHEMA");
  });

  it("a key given twice is refused (no last-one-wins)", async () => {
    const before = peopleCount();
    const response = await postRaw("/people", '{"name": "Alice", "name": "Mallory"}');
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_JSON_DUPLICATE_KEY");
    // nested objects are checked too, and the same key in two sibling objects is fine
    const nested = await postRaw(
      "/policy-changes",
      '{"containerId": "x", "kind": "holidays", "holidays": [{"from": "2026-12-24", "from": "2026-12-25", "to": "2026-12-26"}]}',
    );
    expect(nested.json().code).toBe("E_JSON_DUPLICATE_KEY");
    expect(peopleCount()).toBe(before);
  });

  it("a lone surrogate is refused, not turned into U+FFFD", async () => {
    const before = peopleCount();
    const escaped = await postRaw("/people", '{"name": "Eve \\ud800"}');
    expect(escaped.statusCode).toBe(400);
    expect(escaped.json().code).toBe("E_TEXT_ENCODING");
    // the same as raw bytes: CESU-style encoded surrogate, not UTF-8
    const raw = Buffer.concat([
      Buffer.from('{"name": "Eve '),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    const bytes = await postRaw("/people", raw);
    expect(bytes.statusCode).toBe(400);
    expect(bytes.json().code).toBe("E_TEXT_ENCODING");
    expect(peopleCount()).toBe(before);
  });

  it("a NUL or other control character is refused", async () => {
    const before = peopleCount();
    for (const text of ["Eve\\u0000", "Eve\\u001b[31m", "Eve\\u007f"]) {
      const response = await postRaw("/people", `{"name": "${text}"}`);
      expect(response.statusCode, text).toBe(400);
      expect(response.json().code).toBe("E_TEXT_CONTROL");
    }
    expect(peopleCount()).toBe(before);
    // tabs and new lines are text
    const ok = await postRaw("/people", '{"name": "Eve\\tExample"}');
    expect(ok.statusCode).toBe(201);
  });

  it("a date that does not exist is refused: from=2026-02-30T00:00:00Z", async () => {
    const response = await f.app.inject({
      method: "GET",
      url: "/api/v1/reports/openings?from=2026-02-30T00:00:00Z",
      headers: f.as("auditor"),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_DATE");
    const body = await postRaw(
      "/people/nobody/enable",
      JSON.stringify({ validUntil: "2027-02-29T00:00:00Z" }),
    );
    expect(body.json().code).toBe("E_DATE");
    const leap = await f.app.inject({
      method: "GET",
      url: "/api/v1/reports/openings?from=2028-02-29T00:00:00Z&to=2028-03-01T00:00:00Z",
      headers: f.as("auditor"),
    });
    expect(leap.statusCode, leap.body).toBe(200);
  });

  it("text that is not JSON answers E_JSON", async () => {
    const response = await postRaw("/people", "{name: Alice}");
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("E_JSON");
  });
});
