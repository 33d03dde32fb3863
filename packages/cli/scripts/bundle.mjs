#!/usr/bin/env node
/**
 * Bundles the `rsc` bin (tsc's output in dist/) into bin/: one module for the start-up path
 * (cli + compiler + yaml + commander + ajv's runtime helpers) and one chunk per lazily imported
 * command. Node then resolves and compiles a handful of files instead of ~150 modules, which is
 * most of `rsc check`'s start-up cost (issue 2's target: within 3x of `node -e 0`).
 *
 * The ONNX backend is bundled too (with onnx-proto and protobufjs), so `rsc build --target onnx`
 * loads one copy of the compiler and no CommonJS module graph. Kept external (loaded from
 * node_modules when a command needs them): onnxruntime (through `@rsc/backend-onnx/runtime`,
 * which resolves its native binaries from its own package), the tfjs backend and its runtimes,
 * and the other heavy run-time packages. Two small tfjs-backend modules that load no tfjs are
 * bundled: its BackendInfo (`rsc build` registers its flags at start-up) and the tfjs artifacts
 * reader (`rsc build --target onnx --weights` reads trained weights without loading tfjs).
 * yaml is taken from its ESM build (its "default" export condition) so it is tree-shaken and not
 * wrapped in CommonJS shims.
 *
 * Usage: node packages/cli/scripts/bundle.mjs  (run by the root `build` script after `tsc -b`).
 */
import { chmodSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..");
const compilerRequire = createRequire(join(cli, "..", "compiler", "package.json"));
const yamlEsm = join(dirname(compilerRequire.resolve("yaml/package.json")), "browser", "index.js");
const out = join(cli, "bin");

rmSync(out, { recursive: true, force: true });
await build({
  cwd: cli,
  input: { rsc: join(cli, "dist", "bin.js") },
  platform: "node",
  resolve: { alias: { yaml: yamlEsm } },
  external: [
    "@rsc/backend-onnx/runtime",
    /^@rsc\/backend-tfjs(?!\/(info|artifacts-format)$)/,
    /^h5wasm/,
    /^@viz-js\//,
    /^cli-progress$/,
    /^onnxruntime-node/,
    /^@tensorflow\//,
  ],
  output: {
    dir: out,
    format: "esm",
    minify: true,
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    sourcemap: true,
  },
  logLevel: "warn",
});
// Executable, so `npm link` (README: "rsc on your PATH") gives a command that runs.
chmodSync(join(out, "rsc.js"), 0o755);
