/**
 * Errors of the hardware layer: a stable code and a sentence a field technician can act on;
 * the codes are in the edge's catalogue (../errors.ts).
 */
export { HardwareError, type HardwareErrorCode } from "../errors.js";
