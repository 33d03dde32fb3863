export * from "./golden.js";
export * from "./numeric-cases.js";
