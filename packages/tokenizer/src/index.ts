export * from "./model-tokenizer.js";
export * from "./load-tokenizer.js";
