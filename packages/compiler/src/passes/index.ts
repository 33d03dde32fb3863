/** IR -> IR passes a backend may run before lowering (the IR stays valid and shape-inferred). */

export { bakedScalingName, bakeInputScaling, type InputScaling } from "./bake-input-scaling.js";
export { foldPoolReshape } from "./fold-pool-reshape.js";
export { absorbsZeroPadding, foldZeroPadding } from "./fold-zero-padding.js";
