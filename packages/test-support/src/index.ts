export * from "./golden.js";
