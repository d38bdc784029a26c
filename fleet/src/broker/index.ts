export * from "./acl.js";
export * from "./broker.js";
export * from "./retained-store.js";
