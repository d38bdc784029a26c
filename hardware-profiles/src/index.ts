export * from "./levels.js";
export * from "./pins.js";
export { default as arduinoFirmataProfile } from "./profiles/arduino-firmata.js";
export { default as raspberryPiProfile } from "./profiles/raspberry-pi.js";
export { default as virtualProfile } from "./profiles/virtual.js";
export { default as virtualMatrixProfile } from "./profiles/virtual-matrix.js";
export * from "./registry.js";
export * from "./schema.js";
export * from "./validate.js";
