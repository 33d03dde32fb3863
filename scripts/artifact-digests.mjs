#!/usr/bin/env node
// Builds every spec in specs/ for every target into a temporary folder and prints one sha256 line
// per artifact file, so a refactor can prove its artifacts are byte-identical:
//   node scripts/artifact-digests.mjs > before.txt   (on the old commit)
//   node scripts/artifact-digests.mjs --check before.txt
// Needs the built bin (npx -y pnpm@12.4.2 build). --large adds bench/specs (a 2.15 GB model).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";

const args = process.argv.slice(2);
const checkFile = args.includes("--check") ? args[args.indexOf("--check") + 1] : undefined;
const root = join(import.meta.dirname, "..");
const bin = join(root, "packages/cli/bin/rsc.js");
const specDirs = ["specs", ...(args.includes("--large") ? ["bench/specs"] : [])];
const targets = { onnx: (stem) => `${stem}.onnx`, tfjs: (stem) => `${stem}-tfjs` };

function digest(path) {
  const hash = createHash("sha256");
  const fd = readFileSync(path);
  hash.update(fd);
  return hash.digest("hex");
}

function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((f) => filesUnder(join(path, f)));
}

const out = mkdtempSync(join(tmpdir(), "rsc-digests-"));
const lines = [];
try {
  for (const dir of specDirs) {
    for (const file of readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".yaml"))
      .sort()) {
      const stem = basename(file, ".yaml");
      for (const [target, name] of Object.entries(targets)) {
        if (dir === "bench/specs" && target === "tfjs") continue;
        const output = join(out, name(stem));
        execFileSync(
          process.execPath,
          [bin, "build", join(dir, file), "--target", target, "-o", output],
          {
            cwd: root,
            stdio: ["ignore", "ignore", "inherit"],
          },
        );
        const paths = [
          ...filesUnder(output),
          ...(target === "onnx"
            ? readdirSync(out)
                .filter((f) => f.startsWith(`${name(stem)}.`))
                .map((f) => join(out, f))
            : []),
        ];
        for (const p of paths) lines.push(`${digest(p)}  ${relative(out, p)}`);
        if (target === "tfjs") {
          // The same spec to ONNX with the weights just written: covers the weights reader.
          const reloaded = join(out, `${stem}-from-tfjs.onnx`);
          execFileSync(
            process.execPath,
            [
              bin,
              "build",
              join(dir, file),
              "--target",
              "onnx",
              "--weights",
              output,
              "-o",
              reloaded,
            ],
            {
              cwd: root,
              stdio: ["ignore", "ignore", "pipe"],
            },
          );
          lines.push(`${digest(reloaded)}  ${relative(out, reloaded)}`);
          rmSync(reloaded, { force: true });
        }
        rmSync(output, { recursive: true, force: true });
        for (const p of paths) rmSync(p, { force: true });
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
lines.sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
if (checkFile === undefined) {
  process.stdout.write(`${lines.join("\n")}\n`);
} else {
  const expected = readFileSync(checkFile, "utf8").trim().split("\n");
  const differ = [...new Set([...expected, ...lines])].filter(
    (l) => !expected.includes(l) || !lines.includes(l),
  );
  if (differ.length === 0) {
    console.log(`${lines.length} artifact files byte-identical to ${checkFile}`);
  } else {
    console.log(`${differ.length} lines differ:\n${differ.join("\n")}`);
    process.exitCode = 1;
  }
}
