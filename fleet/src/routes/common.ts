/** Schemas every route file shares: pagination, ids, errors, `{ok}` answers. */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../storage/pagination.js";

/** `?limit=&cursor=`: keyset pagination; `nextCursor` of the previous page goes in `cursor`. */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

/** A page query plus filters. */
export function pageQueryWith<T extends Record<string, TSchema>>(filters: T) {
  return Type.Object({ ...PageQuery.properties, ...filters }, { additionalProperties: false });
}

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  });
}

export const FleetIdText = Type.String({ pattern: "^[a-z]{2,8}_[0-9a-f]{16}$" });

export function idParams<K extends string>(name: K) {
  return Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 64 }) } as {
    [P in K]: ReturnType<typeof Type.String>;
  });
}

export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

export const Ok = Type.Object({ ok: Type.Literal(true) });
