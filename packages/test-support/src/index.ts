export * from "./golden.js";
export * from "./numeric-cases.js";
export * from "./webgpu.js";
