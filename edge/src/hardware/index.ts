/** The edge hardware layer: Johnny-Five drivers for the parts a hardware profile describes. */
export * from "./errors.js";
export type { IoPlugin } from "./johnny-five.js";
export * from "./open-hardware.js";
export type * from "./types.js";
