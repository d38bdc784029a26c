/**
 * Errors of the device runtime and its command line: a stable code and a sentence a field
 * technician can act on; the codes are in the edge's catalogue (../errors.ts).
 */
import { codeOf } from "@lockfleet/protocol";

export { RuntimeError, type RuntimeErrorCode } from "../errors.js";

/** The stable code of an error that carries one as a field, else undefined. */
export function errorCode(error: unknown): string | undefined {
  return codeOf(error);
}
