/**
 * SVG to PNG with resvg compiled to WebAssembly (@resvg/resvg-wasm): no system Graphviz, Cairo
 * or native binary, the same pixels on every platform. Text is set in Arimo, read from the
 * `@expo-google-fonts/arimo` package (never from the system or the network), so a machine
 * without fonts draws the same picture. Graphviz asks for Helvetica, Arial or sans-serif and
 * sizes boxes with Arial's metrics; Arimo has those metrics (it is the Liberation Sans design),
 * so every line fits its box as Graphviz laid it out.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Pixels per SVG pixel: 2 (192 dpi), crisp on high-density screens. */
const ZOOM = 2;

/**
 * Longest side of a PNG, in pixels: past it the picture is drawn smaller. Many viewers and
 * browsers refuse larger images; ResNet-50 uncollapsed is about 28,000 SVG pixels tall.
 */
export const MAX_PNG_SIDE = 32_767;

/** The family name of the bundled font. */
const FONT_FAMILY = "Arimo";

/** The bundled font file (regular weight: Graphviz's labels use no other). */
const FONT_FILE = "@expo-google-fonts/arimo/400Regular/Arimo_400Regular.ttf";

type ResvgModule = typeof import("@resvg/resvg-wasm");

let loaded: Promise<{ resvg: ResvgModule; font: Uint8Array }> | undefined;

/** Loads the WebAssembly module and the font once per process (`initWasm` may run only once). */
function load(): Promise<{ resvg: ResvgModule; font: Uint8Array }> {
  loaded ??= (async () => {
    const resvg = await import("@resvg/resvg-wasm");
    await resvg.initWasm(readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm")));
    const font = readFileSync(require.resolve(FONT_FILE));
    return { resvg, font };
  })();
  return loaded;
}

/** A Graphviz SVG length (`240pt`, `320px`, `12in`) in CSS pixels; undefined if unreadable. */
function cssPixels(length: string | undefined): number | undefined {
  const m = /^([\d.]+)(pt|px|in|)$/.exec(length ?? "");
  if (m === null) return undefined;
  const per = { pt: 4 / 3, px: 1, in: 96, "": 1 }[m[2] as "pt" | "px" | "in" | ""];
  return Number(m[1]) * per;
}

/** The zoom for an SVG: {@link ZOOM}, less when that would make a side longer than {@link MAX_PNG_SIDE}. */
export function pngZoom(svg: string): number {
  const head = svg.slice(0, svg.indexOf(">") + 1);
  const side = Math.max(
    cssPixels(/\swidth="([^"]*)"/.exec(head)?.[1]) ?? 0,
    cssPixels(/\sheight="([^"]*)"/.exec(head)?.[1]) ?? 0,
  );
  // Floor, not round: a side rounded up past the cap would be refused by the same viewers.
  return side * ZOOM <= MAX_PNG_SIDE ? ZOOM : Math.floor((MAX_PNG_SIDE / side) * 1000) / 1000;
}

/** A rendered PNG and its size in pixels. */
export interface Png {
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Rasterises an SVG (Graphviz's) on white. */
export async function svgToPng(svg: string): Promise<Png> {
  const { resvg, font } = await load();
  const renderer = new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: pngZoom(svg) },
    background: "white",
    font: {
      fontBuffers: [font],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      serifFamily: FONT_FAMILY,
      monospaceFamily: FONT_FAMILY,
    },
  });
  try {
    const image = renderer.render();
    try {
      return { bytes: image.asPng(), width: image.width, height: image.height };
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}
