/**
 * Keyset pagination over SQLite rowids: `?limit=&cursor=` in, `{items, nextCursor}` out. The
 * cursor is opaque to clients (base64url of the last rowid), stable under inserts.
 */
import { FleetError } from "../errors.js";

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodeCursor(rowid: number): string {
  return Buffer.from(`r${rowid}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^r(\d{1,15})$/.exec(text);
  if (match?.[1] === undefined) {
    throw new FleetError("E_BAD_CURSOR", "querystring/cursor is not a cursor this API returned");
  }
  return Number(match[1]);
}

export function pageLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? DEFAULT_PAGE_LIMIT, 1), MAX_PAGE_LIMIT);
}

/**
 * Runs `sql` (which selects `row_id` and ends in a WHERE clause) for one page: rows after the
 * cursor, ordered by rowid, one more than asked to know whether another page follows.
 */
export function pageOf<Row extends { row_id: number }, T>(
  statement: { all(...params: unknown[]): unknown[] },
  params: unknown[],
  page: PageRequest,
  map: (row: Row) => T,
): Page<T> {
  const limit = pageLimit(page.limit);
  const rows = statement.all(...params, decodeCursor(page.cursor), limit + 1) as Row[];
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: more && last !== undefined ? encodeCursor(last.row_id) : null,
  };
}

export function parseJsonColumn<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === "") return fallback;
  return JSON.parse(text) as T;
}
