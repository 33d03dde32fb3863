/**
 * `rsc graph`: DOT and Mermaid goldens for a tiny spec (fixtures/graph-tiny/), label and tooltip
 * goldens for a spec with one layer of each kind (fixtures/graph-attrs/), block collapsing,
 * --rankdir, and the real bin rendering SVG (@viz-js/viz) and PNG (@resvg/resvg-wasm, with its
 * bundled font) with no system Graphviz. Refresh goldens with UPDATE_GOLDEN=1 and review.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import { compileFile, type Graph } from "@rsc/compiler";
import { expectGolden } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { pictureToDot } from "../src/graph/dot.js";
import type { Measure } from "../src/graph/measures.js";
import { pictureToMermaid } from "../src/graph/mermaid.js";
import { buildPicture } from "../src/graph/picture.js";
import { MAX_PNG_SIDE, pngZoom } from "../src/graph/png.js";
import { graphFormat } from "../src/graph/run-graph.js";
import { titlesFromTooltips } from "../src/graph/svg.js";
import { bin, root, rsc } from "./rsc-process.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "fixtures", "graph-tiny");
const tiny = join(fixture, "spec.yaml");
const attrsSpec = join(here, "fixtures", "graph-attrs", "spec.yaml");
const tmp = mkdtempSync(join(tmpdir(), "rsc-graph-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function compile(spec: string): Graph {
  const result = compileFile(spec);
  if (result.graph === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.graph;
}

/** Compares with fixtures/graph-tiny/expected.<kind>. */
const golden = (kind: string, actual: string) =>
  expectGolden(join(fixture, `expected.${kind}`), actual);

/** An internal box id (`n17`, `b3`) as a word. */
const BOX_ID = /\b[nb]\d+\b/;

/** The `<title>` texts and `xlink:title` tooltips of an SVG, XML entities decoded. */
function svgTooltips(svg: string): string[] {
  const decode = (s: string) =>
    s
      .replace(/&#10;/g, "\n")
      .replace(/&#45;/g, "-")
      .replace(/&gt;/g, ">")
      .replace(/&lt;/g, "<")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
  return [
    ...[...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => decode(m[1]!)),
    ...[...svg.matchAll(/xlink:title="([^"]*)"/g)].map((m) => decode(m[1]!)),
  ];
}

/** Decodes an 8-bit RGB/RGBA, non-interlaced PNG (what resvg writes) into its pixels. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; px: Buffer } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let header: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") header = body;
    if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  if (header === undefined) throw new Error("no IHDR");
  const [width, height] = [header.readUInt32BE(0), header.readUInt32BE(4)];
  expect(header[8]).toBe(8); // bit depth
  expect(header[12]).toBe(0); // no interlacing
  const channels = { 2: 3, 6: 4 }[header[9] as 2 | 6];
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter]!;
      px[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, px };
}

/** Runs the bin and keeps stdout as bytes (a PNG on stdout). */
function rscBytes(args: readonly string[]): Promise<{ code: number | null; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(chunks) }));
  });
}

describe("rsc graph pictures", () => {
  it("draws every layer with its class, key attributes, shape and params (DOT, Mermaid goldens)", () => {
    const picture = buildPicture(compile(tiny));
    expect(picture.nodes).toHaveLength(12);
    // Parameters by hand: 3x3 kernel over 3 channels to 8 filters plus 8 biases.
    expect(picture.nodes[1]!.fields).toEqual([
      ["stem: Conv2D"],
      ["filters 8, kernel_size 3x3,", "strides 1x1, padding same"],
      ["(None, 16, 16, 8)"],
      // MACs by hand: 16x16x8 outputs, each 3x3x3 multiply-accumulates.
      [`${3 * 3 * 3 * 8 + 8} params, ${(16 * 16 * 8 * 27).toLocaleString("en-US")} MACs`],
    ]);
    // No attribute and no parameter: no field for them.
    expect(picture.nodes[4]!.fields).toEqual([["unita_add: Add"], ["(None, 16, 16, 8)"]]);
    expect(picture.nodes[1]!.tooltip).toEqual([
      "stem: Conv2D",
      "from: input_1",
      "filters: 8",
      "kernel_size: 3x3",
      "strides: 1x1",
      "padding: same",
      "dilation_rate: 1x1",
      "use_bias: true",
      "activation: linear",
      "output: (None, 16, 16, 8)",
      "params: 224",
      "MACs: 55,296",
    ]);
    // The residual edges: each add reads its block's input too.
    expect(picture.edges).toHaveLength(13);
    expect(picture.edges[4]!.tooltip).toEqual(["stem → unita_add", "(None, 16, 16, 8)"]);
    const dot = pictureToDot(picture);
    golden("dot", dot);
    golden("mmd", pictureToMermaid(picture));
    // DOT node ids are layer names; no label or tooltip names a box id.
    expect(dot).not.toMatch(BOX_ID);
    expect(dot).toContain('"stem" -> "unita_conv"');
  });

  it("labels each kind of layer by what sets it apart; tooltips list every attribute", () => {
    const picture = buildPicture(compile(attrsSpec));
    const text = picture.nodes
      .map((n) => [...n.fields.map((f) => `| ${f.join(" / ")}`), ...n.tooltip.map((t) => `  ${t}`)])
      .map((lines) => lines.join("\n"))
      .join("\n\n");
    expectGolden(join(here, "fixtures", "graph-attrs", "expected.labels.txt"), `${text}\n`);
    const box = (name: string) => picture.nodes.find((n) => n.name === name)!.fields[1];
    // What is set and not at its default is shown; what is at its default is not ...
    expect(box("dilated")).toEqual([
      "filters 4, kernel_size 3x3,",
      "strides 1x1, padding same,",
      "dilation_rate 2x2, use_bias false,",
      "activation relu",
    ]);
    expect(box("grouped")!.join(" ")).toContain("groups 2");
    expect(box("dw")!.join(" ")).toContain("depth_multiplier 2");
    // ... but for the window: a default pool_size still says what the pooling does.
    expect(box("pool")).toEqual(["pool_size 2x2, strides 2x2,", "padding valid"]);
    expect(box("pad")).toEqual(["padding ((0, 1), (0, 1))"]);
    expect(box("scale")).toEqual(["scale 0.00392157"]);
    expect(box("drop")).toEqual(["rate 0.25"]);
    // Tooltips keep exact values and the defaults too.
    const tip = (name: string) => picture.nodes.find((n) => n.name === name)!.tooltip;
    expect(tip("scale")).toContain("scale: 0.00392156862745098");
    expect(tip("dw")).toContain("dilation_rate: 1x1");
    // Hand-counted: 3x3 depthwise kernel over 4 channels x 2, plus 8 biases.
    expect(tip("dw")).toContain(`params: ${3 * 3 * 4 * 2 + 8}`);
  });

  it("collapses each block instance into one box; its tooltip lists its layers", () => {
    const full = buildPicture(compile(tiny));
    const collapsed = buildPicture(compile(tiny), { collapse: true });
    expect(collapsed.nodes.length).toBeLessThan(full.nodes.length);
    expect(collapsed.nodes.map((n) => n.name)).toEqual([
      "input_1",
      "stem",
      "unit unita",
      "unit unitb",
      "pool",
      "fc3",
    ]);
    expect(collapsed.nodes[2]!.fields).toEqual([
      ["unit unita"],
      // The block's one conv: 16x16x8 outputs, each 3x3x8 multiply-accumulates.
      ["4 layers, 616 params, 147,456 MACs"],
      ["(None, 16, 16, 8) → (None, 16, 16, 8)"],
    ]);
    expect(collapsed.nodes[2]!.tooltip).toEqual([
      "unit unita: block unit, 4 layers",
      "from: stem",
      "input: (None, 16, 16, 8)",
      "output: (None, 16, 16, 8)",
      "params: 616",
      "MACs: 147,456",
      "layers:",
      "- unita_conv: Conv2D (filters 8, kernel_size 3x3, strides 1x1, padding same)",
      "- unita_bn: BatchNormalization",
      "- unita_add: Add",
      "- activation: Activation (activation relu)",
    ]);
    expect(collapsed.edges.map((e) => [e.from, e.to])).toEqual([
      ["n0", "n1"],
      ["n1", "b0"],
      ["b0", "b1"],
      ["b1", "n10"],
      ["n10", "n11"],
    ]);
    golden("collapsed.dot", pictureToDot(collapsed));
  });

  it("shows every measure of the list in boxes, tooltips and block sums", () => {
    // What adding a count to MEASURES (measures.ts) does: here, one per output value.
    const outputs: Measure = {
      unit: "outputs",
      count: (n) => n.outputShape.reduce((a, b) => a * b, 1),
    };
    const picture = buildPicture(compile(tiny), { collapse: true, measures: [outputs] });
    expect(picture.nodes[1]!.fields.at(-1)).toEqual([
      `${(16 * 16 * 8).toLocaleString("en")} outputs`,
    ]);
    expect(picture.nodes[1]!.tooltip.at(-1)).toBe("outputs: 2,048");
    // A block: four layers of 2,048 values each.
    expect(picture.nodes[2]!.fields[1]).toEqual(["4 layers, 8,192 outputs"]);
    expect(picture.nodes[2]!.tooltip).toContain("outputs: 8,192");
  });

  it("--rankdir LR lays the ranks out left to right (DOT, Mermaid)", () => {
    const collapsed = buildPicture(compile(tiny), { collapse: true });
    const lr = pictureToDot(collapsed, { rankdir: "LR" });
    golden("collapsed-lr.dot", lr);
    expect(lr).toContain("rankdir=LR");
    // Records flip with the rank direction: left to right, the bare fields stack vertically.
    expect(lr).toContain('"stem" [label="\u00a0\u00a0stem: Conv2D\u00a0\u00a0|');
    expect(pictureToDot(collapsed)).toContain('"stem" [label="{\u00a0\u00a0stem: Conv2D');
    expect(pictureToMermaid(collapsed, { rankdir: "LR" }).split("\n")[0]).toBe("flowchart LR");
  });

  it("escapes names and texts that DOT, records and SVG treat specially", async () => {
    const spec = join(tmp, "odd.yaml");
    writeFileSync(
      spec,
      'rsc: 1\ninput: { name: "in\\\\", shape: [4] }\nlayers:\n  - dense: { name: "a{{b}}|<c> \\"q\\"", units: 2 }\n',
    );
    const run = await rsc(["graph", spec]);
    expect(run.code).toBe(0);
    const tips = svgTooltips(run.stdout);
    expect(tips).toContain(
      'a{b}|<c> "q": Dense\nfrom: in\\\nunits: 2\nactivation: linear\nuse_bias: true\noutput: (None, 2)\nparams: 10\nMACs: 8',
    );
    expect(run.stdout).toContain(">a{b}|&lt;c&gt; &quot;q&quot;: Dense");
  });

  it("picks the format from --format, then the -o extension, else svg", () => {
    expect(graphFormat({})).toBe("svg");
    expect(graphFormat({ output: "x.gv" })).toBe("dot");
    expect(graphFormat({ output: "x.MMD" })).toBe("mermaid");
    expect(graphFormat({ output: "x.PNG" })).toBe("png");
    expect(graphFormat({ output: "x.svg", format: "dot" })).toBe("dot");
    expect(() => graphFormat({ output: "x.gif" })).toThrow(/cannot tell the format/);
  });

  it("moves tooltips into SVG titles, so no browser shows a node id", () => {
    const svg =
      '<g id="node1" class="node">\n<title>n1</title>\n<g id="a_node1"><a xlink:title="x &amp; y&#10;z">';
    expect(titlesFromTooltips(svg)).toBe(
      '<g id="node1" class="node">\n<title>x &amp; y&#10;z</title>\n<g id="a_node1"><a xlink:title="x &amp; y&#10;z">',
    );
  });
});

describe("rsc graph (the bin)", () => {
  it("renders SVG in-process to stdout and to a file; tooltips carry attributes, never ids", async () => {
    const run = await rsc(["graph", tiny]);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith("<svg")).toBe(true);
    expect(run.stdout).toContain("unita_conv: Conv2D");
    expect(run.stdout).toContain("filters 8, kernel_size 3x3,");
    expect(run.stdout).not.toMatch(BOX_ID);
    const tips = svgTooltips(run.stdout);
    // Twelve boxes and thirteen arrows, each with a title and a tooltip; the graph's title.
    expect(tips).toHaveLength(1 + 2 * (12 + 13));
    const stem = tips.filter((t) => t.startsWith("stem: Conv2D"));
    expect(stem).toHaveLength(2);
    for (const t of stem) {
      for (const line of ["kernel_size: 3x3", "strides: 1x1", "padding: same", "params: 224"])
        expect(t.split("\n")).toContain(line);
    }
    expect(tips).toContain("stem → unita_add\n(None, 16, 16, 8)");
    const out = join(tmp, "tiny.svg");
    const file = await rsc(["graph", tiny, "--collapse-blocks", "-o", out]);
    expect(file.code).toBe(0);
    expect(file.stderr).toBe(`wrote ${out} (6 boxes)\n`);
    const svg = readFileSync(out, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("unit unitb");
    expect(svg).not.toMatch(BOX_ID);
    expect(svgTooltips(svg)).toContain(
      "unit unitb: block unit, 4 layers\nfrom: activation\ninput: (None, 16, 16, 8)\noutput: (None, 16, 16, 8)\nparams: 616\nMACs: 147,456\nlayers:\n- unitb_conv: Conv2D (filters 8, kernel_size 3x3, strides 1x1, padding same)\n- unitb_bn: BatchNormalization\n- unitb_add: Add\n- activation_1: Activation (activation relu)",
    );
  });

  it("--rankdir LR makes the picture wide, TB tall", async () => {
    const [tb, lr] = await Promise.all([
      rsc(["graph", tiny, "--collapse-blocks"]),
      rsc(["graph", tiny, "--collapse-blocks", "--rankdir", "LR"]),
    ]);
    expect([tb.code, lr.code]).toEqual([0, 0]);
    const size = (svg: string) => {
      const m = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg)!;
      return { width: Number(m[1]), height: Number(m[2]) };
    };
    const [t, l] = [size(tb.stdout), size(lr.stdout)];
    expect(t.height).toBeGreaterThan(2 * t.width);
    expect(l.width).toBeGreaterThan(2 * l.height);
    // Six boxes in a row: each box's text sits further right than the one before.
    const xs = (svg: string, name: string) =>
      Number(
        new RegExp(`x="([\\d.]+)" y="[-\\d.]+"[^>]*>\u00a0\u00a0${name}[:\u00a0]`).exec(svg)![1],
      );
    expect(xs(lr.stdout, "stem")).toBeLessThan(xs(lr.stdout, "unit unita"));
    expect(xs(lr.stdout, "unit unita")).toBeLessThan(xs(lr.stdout, "fc3"));
  });

  it("--format png renders with the bundled font, to a file (atomically) or to a pipe", async () => {
    const svgRun = await rsc(["graph", tiny]);
    const out = join(tmp, "png", "tiny.png");
    const run = await rsc(["graph", tiny, "-o", out]);
    expect(run.code).toBe(0);
    const png = readFileSync(out);
    const { width, height, channels, px } = decodePng(png);
    expect(run.stderr).toBe(`wrote ${out} (12 boxes, ${width}x${height} px)\n`);
    // Graphviz's size in points, at 4/3 pixels a point, times 2.
    const m = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svgRun.stdout)!;
    expect(width).toBe(Math.round((Number(m[1]) * 4 * 2) / 3));
    expect(height).toBe(Math.round((Number(m[2]) * 4 * 2) / 3));
    // Only the text is drawn near black: boxes and arrows are #5b6770 on #f4f6f8 and white.
    let dark = 0;
    const colours = new Set<number>();
    for (let i = 0; i < px.length; i += channels) {
      colours.add(px.readUIntBE(i, 3));
      if (px[i]! < 60 && px[i + 1]! < 60 && px[i + 2]! < 60) dark++;
    }
    expect(colours.size).toBeGreaterThan(50);
    // ~470 characters of 10pt text: thousands of dark pixels, none without a font.
    expect(dark).toBeGreaterThan(5000);
    expect(readdirSync(dirname(out))).toEqual(["tiny.png"]); // no temporary left behind
    // The same bytes through a pipe (--format png; stdout is not a terminal here).
    const piped = await rscBytes(["graph", tiny, "--format", "png"]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.equals(png)).toBe(true);
  });

  it.skipIf(!existsSync("/usr/bin/script"))(
    "refuses to print a PNG to a terminal (exit 2), under a pseudo-terminal",
    async () => {
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} graph ${JSON.stringify(tiny)} --format png`;
      const child = spawn("/usr/bin/script", ["-qec", command, "/dev/null"], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      child.stdout.on("data", (c: Buffer) => {
        text += c.toString("latin1");
      });
      const code = await new Promise((resolve) => child.on("close", resolve));
      expect(code).toBe(2);
      expect(text).toContain("rsc: error: a PNG is binary: write it with -o file.png");
      expect(text).not.toContain("PNG\r\n");
    },
  );

  it("caps a PNG's longest side", () => {
    const svg = (h: number) => `<svg width="100pt" height="${h}pt"\n viewBox="0 0 100 ${h}">`;
    expect(pngZoom(svg(300))).toBe(2);
    const zoom = pngZoom(svg(30_000));
    expect(zoom).toBeLessThan(1);
    expect(((30_000 * 4) / 3) * zoom).toBeLessThanOrEqual(MAX_PNG_SIDE);
  });

  it("fails cleanly: a bad spec (nothing written), bad --rankdir, --format or extension (exit 2)", async () => {
    const bad = join(tmp, "bad.yaml");
    writeFileSync(bad, "rsc: 1\nlayers:\n  - conv2d: { filters: 8, kernel_sise: 3 }\n");
    const [r1, r2, r3, r4, r5] = await Promise.all([
      rsc(["graph", bad, "-o", join(tmp, "bad.png")]),
      rsc(["graph", tiny, "--rankdir", "RL"]),
      rsc(["graph", tiny, "--rankdir", "lr"]),
      rsc(["graph", tiny, "--format", "gif"]),
      rsc(["graph", tiny, "-o", join(tmp, "x.gif")]),
    ]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/bad\.yaml:3:\d+: error RSC1/);
    expect(existsSync(join(tmp, "bad.png"))).toBe(false);
    expect([r2.code, r3.code, r4.code, r5.code]).toEqual([2, 2, 2, 2]);
    expect(r2.stderr).toContain("--rankdir expects TB or LR, got 'RL'");
    expect(r3.stderr).toContain("--rankdir expects TB or LR, got 'lr'");
    expect(r4.stderr).toContain("--format expects svg, png, dot or mermaid, got 'gif'");
    expect(r5.stderr).toContain("cannot tell the format from");
    for (const r of [r2, r3, r4, r5]) expect(r.stdout).toBe("");
    expect(existsSync(join(tmp, "x.gif"))).toBe(false);
  });
});
