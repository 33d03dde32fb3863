/** The architecture diff (`rsc diff`): Graph x Graph -> ArchDiff, and its text/markdown renderings. */
export * from "./arch-diff.js";
export { type BlockInstance, blockInstances } from "./block-instances.js";
export { type DiffOptions, diffGraphs } from "./diff-graphs.js";
export { formatCount, formatShape } from "./format-values.js";
export { isGeneratedName, type LayerMatching, matchLayers } from "./match-layers.js";
export { renderDiffMarkdown } from "./render-markdown.js";
export { renderDiffText, type TextRenderOptions, type TextRole } from "./render-text.js";
