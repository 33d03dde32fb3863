/** IR -> IR passes a backend may run before lowering (the IR stays valid and shape-inferred). */
export { absorbsZeroPadding, foldZeroPadding } from "./fold-zero-padding.js";
