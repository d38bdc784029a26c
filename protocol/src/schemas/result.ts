/**
 * Command results on `cmd/result`, in the request/response shape zigbee2mqtt uses for its
 * bridge: {id, status, data?, error?}. Every rejection carries a machine-readable code.
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  COMMAND_REFUSALS,
  type CommandRefusalCode,
  MESSAGE_REFUSALS,
  type ProtocolErrorCode,
} from "../errors.js";
import { DeviceId, Instant, Strict } from "./common.js";

/** Why a lock refused a command it could open: its own rules (errors.ts COMMAND_REFUSALS). */
export const CommandRefusal = Type.Union(
  (Object.keys(COMMAND_REFUSALS) as CommandRefusalCode[]).map((code) => Type.Literal(code)),
);

/** Why an envelope was refused before any rule looked at it (errors.ts MESSAGE_REFUSALS). */
export const MessageRefusal = Type.Union(
  (Object.keys(MESSAGE_REFUSALS) as ProtocolErrorCode[]).map((code) => Type.Literal(code)),
);

export const ErrorBody = Strict({
  code: Type.String({ pattern: "^E_[A-Z0-9_]+$" }),
  message: Type.String({ maxLength: 1000 }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const CommandResult = Strict({
  /** The envelope id answered; "unknown" when the envelope could not even be read. */
  id: Type.String({ minLength: 1, maxLength: 64 }),
  deviceId: DeviceId,
  at: Instant,
  status: Type.Union([Type.Literal("ok"), Type.Literal("error")]),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  error: Type.Optional(ErrorBody),
});
export type CommandResult = Static<typeof CommandResult>;

export const SELF_TEST_PART_RESULTS = ["ok", "fault", "notFitted"] as const;

export const SelfTestReport = Strict({
  deviceId: DeviceId,
  at: Instant,
  hardwareProfile: Type.String({ maxLength: 64 }),
  parts: Type.Array(
    Strict({
      part: Type.String({ maxLength: 32 }),
      result: Type.Union(SELF_TEST_PART_RESULTS.map((result) => Type.Literal(result))),
      detail: Type.Optional(Type.String({ maxLength: 200 })),
    }),
    { maxItems: 32 },
  ),
});
export type SelfTestReport = Static<typeof SelfTestReport>;
