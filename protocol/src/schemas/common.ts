/** Building blocks shared by every message schema. */
import { type Static, type TObject, type TProperties, Type } from "@sinclair/typebox";
import { TOPIC_SEGMENT_PATTERN } from "../topics.js";

/** Objects are closed: an unknown field is a schema error, not something silently carried. */
export function Strict<T extends TProperties>(properties: T, description?: string): TObject<T> {
  return Type.Object(properties, {
    additionalProperties: false,
    ...(description === undefined ? {} : { description }),
  });
}

export const OrgId = Type.String({
  pattern: TOPIC_SEGMENT_PATTERN,
  description: "Organisation id (bank or CIT company)",
});
export const DeviceId = Type.String({
  pattern: TOPIC_SEGMENT_PATTERN,
  description: "Lock (device) id",
});
/** Ids of people, grants, windows, commands: printable, no spaces, at most 64 characters. */
export const Id = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$" });
export const PersonId = Type.String({
  pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
  description: "Unique id of a person; every audit record carries the acting person's id",
});
export const TenantId = OrgId;

/** An instant in UTC, ISO 8601 with a 'Z' suffix and at most millisecond precision. */
export const Instant = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$",
  description: "UTC instant, e.g. 2026-11-22T10:00:00.000Z",
});
export type Instant = Static<typeof Instant>;

export const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const Hash = Type.String({
  pattern: "^[0-9a-f]{64}$",
  description: "SHA-256, lower-case hex",
});
export const Base64url = Type.String({
  pattern: "^[A-Za-z0-9_-]*$",
  description: "base64url, no padding",
});
export const PublicKey = Type.String({
  pattern: "^[A-Za-z0-9_-]{43}$",
  description: "32-byte key, base64url",
});
export const Signature = Type.String({
  pattern: "^[A-Za-z0-9_-]{86}$",
  description: "64-byte Ed25519 signature, base64url",
});
export const KeyId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$" });

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export const IsoWeekday = Type.Integer({ minimum: 1, maximum: 7 });
/** Local wall-clock time "HH:MM"; "24:00" allowed as an end. */
export const LocalTime = Type.String({ pattern: "^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$" });
export const LocalDate = Type.String({
  pattern: "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$",
});
export const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "IANA time zone, e.g. Europe/Berlin",
});

/** X25519 sealed box (tweetnacl `box` with an ephemeral sender key) carrying a secret to one lock. */
export const SealedSecret = Strict(
  {
    alg: Type.Literal("x25519-xsalsa20-poly1305"),
    ephemeralPublicKey: PublicKey,
    nonce: Type.String({ pattern: "^[A-Za-z0-9_-]{32}$", description: "24-byte nonce, base64url" }),
    box: Base64url,
  },
  "A secret encrypted to the lock's own X25519 key; only that lock can open it",
);
export type SealedSecret = Static<typeof SealedSecret>;

/** Names of the people who approved a fleet action; the lock logs them and counts distinct ones. */
export const ApprovedBy = Type.Array(PersonId, { maxItems: 8, uniqueItems: true });
