export * from "./compare-outputs.js";
export * from "./mask-padding.js";
export * from "./compare-models.js";
export * from "./label-agreement.js";
export * from "./fill-shape.js";
