#!/usr/bin/env node
/**
 * The pull-request architecture comment (.github/workflows/architecture-diff.yml runs it): for
 * every model spec a pull request affects, what the architecture change does, as one Markdown
 * comment. Run in the repository under review, after `git fetch` of the base:
 *
 *   node scripts/architecture-diff.mjs --base origin/main [--head-sha SHA] [--out comment.md]
 *     [--specs specs] [--max-chars 60000] [--rsc path/to/rsc.js]
 *
 * Which models are affected is answered by rsc itself (`rsc deps --affected-by`): a model that
 * changed, or that imports a changed file, in any folder below --specs, through any chain of
 * imports, whatever the YAML style of its `import:` list. A model removed by the pull request
 * is listed as removed.
 *
 * The comment: a marker line (to find and update it), a header naming the pull request's head
 * commit, an overview table (one row per affected model: params and MACs old -> new with the
 * percent change, layers added/removed/changed, weight verdict), then one section per changed model (`rsc diff --format markdown`); models whose
 * architecture did not change are one line. The comment is cut only between sections, never
 * inside one (nor inside a `<details>` block or a character); what did not fit is named. When
 * nothing is affected the body says so, so a stale comment is corrected.
 *
 * Exit 0 when every model was diffed (the architecture may have changed: that is for review),
 * 1 when a spec could not be compiled or diffed (the comment says which), 2 on usage errors.
 * Writes `affected=<n>` and `failed=true|false` to $GITHUB_OUTPUT when that is set.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const MARKER = "<!-- rsc-architecture-diff -->";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    base: { type: "string" },
    "head-sha": { type: "string" },
    out: { type: "string", default: "comment.md" },
    specs: { type: "string", default: "specs" },
    "max-chars": { type: "string", default: "60000" },
    rsc: { type: "string", default: join(here, "..", "packages", "cli", "bin", "rsc.js") },
  },
});
if (values.base === undefined) {
  process.stderr.write("architecture-diff: --base <rev> is required (e.g. origin/main)\n");
  process.exit(2);
}
const base = values.base;
const maxChars = Number(values["max-chars"]);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  return { code: r.status ?? 2, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
const git = (...args) => run("git", args);
const rsc = (...args) => run(process.execPath, [values.rsc, ...args]);

const mergeBase = git("merge-base", base, "HEAD");
if (mergeBase.code !== 0) {
  process.stderr.write(`architecture-diff: no merge base of ${base} and HEAD: ${mergeBase.stderr}`);
  process.exit(2);
}
// The merge base, abbreviated (as git prints it) for the REV:path arguments and the comment.
const from = mergeBase.stdout.trim().slice(0, 12);
const head = values["head-sha"] ?? git("rev-parse", "HEAD").stdout.trim();
const isYaml = (f) => /\.ya?ml$/.test(f);

// Every file the pull request changes (renames as delete + add), and the YAML specs it has now.
const changed = git("diff", "--name-only", "--no-renames", `${from}...HEAD`)
  .stdout.split("\n")
  .filter(Boolean);
const specsNow = git("ls-files", "--", values.specs).stdout.split("\n").filter(isYaml);
const affected = specsNow.length
  ? JSON.parse(
      rsc("deps", ...specsNow, ...changed.flatMap((f) => ["--affected-by", f]), "--json").stdout,
    ).result.affected
  : [];

// Models the pull request removes: YAML files gone since the base that were models there.
const removed = [];
const scratch = mkdtempSync(join(tmpdir(), "rsc-architecture-diff-"));
try {
  for (const path of changed.filter((f) => isYaml(f) && f.startsWith(`${values.specs}/`))) {
    if (existsSync(path)) continue;
    const old = git("show", `${from}:${path}`);
    if (old.code !== 0) continue;
    const copy = join(scratch, "removed.yaml");
    writeFileSync(copy, old.stdout);
    const kind = JSON.parse(rsc("deps", copy, "--root", scratch, "--json").stdout).result.specs[0]
      ?.kind;
    if (kind === "model") removed.push(path);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** One model: its overview row, and its section (undefined for one line among the unchanged). */
function report(path) {
  const existed = git("cat-file", "-e", `${from}:${path}`).code === 0;
  if (!existed) {
    const summary = rsc("summary", path, "--json");
    const json = summary.code === 0 ? JSON.parse(summary.stdout).result : undefined;
    const text = rsc("summary", path);
    return {
      path,
      failed: summary.code !== 0,
      row: [
        path,
        json ? count(json.totals.total) : "does not compile",
        json ? count(json.totals.macs) : "",
        "new model",
        "",
      ],
      section: [
        `### \`${path}\``,
        "",
        summary.code === 0 ? "New model." : "New model: **does not compile**.",
        "",
        "<details><summary>Layers</summary>",
        "",
        "```",
        (summary.code === 0 ? text.stdout : text.stderr).trimEnd(),
        "```",
        "",
        "</details>",
      ].join("\n"),
    };
  }
  const json = rsc("diff", `${from}:${path}`, path, "--json");
  if (json.code >= 2 || json.stdout.trim() === "") {
    return {
      path,
      failed: true,
      row: [path, "error", "", "", ""],
      section: [
        `### \`${path}\``,
        "",
        `\`rsc diff\` failed (exit ${json.code}):`,
        "",
        "```",
        json.stderr.trimEnd(),
        "```",
      ].join("\n"),
    };
  }
  const result = JSON.parse(json.stdout).result;
  const s = result.summary;
  if (result.same) {
    return { path, failed: false, same: true, row: undefined, section: undefined };
  }
  const markdown = rsc("diff", `${from}:${path}`, path, "--format", "markdown");
  return {
    path,
    failed: false,
    row: [
      path,
      change(s.paramsOld, s.paramsNew, s.paramsDeltaPercent),
      change(s.macsOld, s.macsNew, s.macsDeltaPercent),
      `${s.layersAdded} added, ${s.layersRemoved} removed, ${s.layersChanged} changed`,
      result.weights?.verdict ?? "",
    ],
    section: markdown.stdout.trimEnd(),
  };
}

function count(n) {
  return typeof n === "number" ? n.toLocaleString("en-US") : String(n);
}

/** `23,600,006 -> 42,670,470 (+80.81%)`, `1,000 (unchanged)`; `n/a` when the old count is 0. */
function change(old, now, percent) {
  if (old === now) return `${count(now)} (unchanged)`;
  const sign = now > old ? "+" : "";
  const pct =
    percent === null ? "n/a" : percent === 0 ? `${sign || "-"}<0.01%` : `${sign}${percent}%`;
  return `${count(old)} -> ${count(now)} (${pct})`;
}

const reports = affected.map(report);
const failed = reports.some((r) => r.failed);
const changedReports = reports.filter((r) => !r.same);
const same = reports.filter((r) => r.same).map((r) => r.path);

const header = [
  MARKER,
  "## Architecture diff",
  "",
  `_\`rsc diff\` of every model spec this pull request affects, at ${head.slice(0, 12)} against the base ${from}._`,
  "",
].join("\n");
const overview = [];
if (changedReports.length + removed.length > 0) {
  overview.push("| model | params | MACs | layers | trained weights load |");
  overview.push("| --- | --- | --- | --- | --- |");
  for (const r of changedReports) overview.push(`| ${r.row.map(cell).join(" | ")} |`);
  for (const path of removed) overview.push(`| ${cell(path)} | removed | | | |`);
  overview.push("");
}
if (same.length > 0)
  overview.push(`Unchanged architecture: ${same.map((p) => `\`${p}\``).join(", ")}.`, "");
if (affected.length + removed.length === 0)
  overview.push(
    "No model spec is affected by this pull request (nothing it changes is read by a model).",
    "",
  );

/** A table cell: no pipes or newlines from a path or message. */
function cell(text) {
  return String(text).replace(/[|\n\r]/g, " ");
}

// Sections go in whole, in order, while they fit; the rest are named at the end.
let body = `${header}\n${overview.join("\n")}\n`;
const left = [];
for (const r of changedReports) {
  const section = `${r.section}\n\n`;
  if (left.length === 0 && body.length + section.length + 400 <= maxChars) body += section;
  else left.push(r.path);
}
if (left.length > 0)
  body += `_Not shown (the comment limit): ${left.map((p) => `\`${p}\``).join(", ")}; run \`rsc diff ${from}:<spec> <spec>\` locally._\n`;
writeFileSync(values.out, body);

if (process.env.GITHUB_OUTPUT)
  appendFileSync(
    process.env.GITHUB_OUTPUT,
    `affected=${affected.length + removed.length}\nfailed=${failed}\n`,
  );
process.stdout.write(
  `architecture-diff: ${affected.length} affected, ${changedReports.length} changed, ${removed.length} removed -> ${relative(process.cwd(), values.out) || values.out}\n`,
);
process.exit(failed ? 1 : 0);
