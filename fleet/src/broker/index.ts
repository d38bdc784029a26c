export * from "./acl.js";
export * from "./broker.js";
export * from "./connection-guard.js";
export * from "./retained-store.js";
