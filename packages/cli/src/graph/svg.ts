/** DOT to SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no system Graphviz. */

/**
 * Graphviz writes each box as `<title>node id</title>` followed by `<a xlink:title="tooltip">`;
 * browsers differ in which one they show on hover, so the title gets the tooltip's text too
 * (both are XML-escaped alike). Box and arrow titles thus never show an id.
 */
export function titlesFromTooltips(svg: string): string {
  return svg.replace(
    /<title>[^<]*<\/title>(\s*<g id="a_[^"]*"><a xlink:title="([^"]*)">)/g,
    (_match, anchor: string, tooltip: string) => `<title>${tooltip}</title>${anchor}`,
  );
}

/** Renders DOT to SVG (titles from tooltips, no XML prolog). */
export async function dotToSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  const result = viz.render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success") {
    const why = result.errors.map((e) => e.message).join("; ");
    throw new Error(`graphviz failed on generated DOT: ${why}`);
  }
  // The XML prolog, doctype and generator comment carry nothing a browser or README needs.
  const svg = result.output;
  return titlesFromTooltips(svg.slice(svg.indexOf("<svg")));
}
