export * from "./article-set.js";
export * from "./read-articles.js";
export * from "./read-agnews-csv.js";
export * from "./sampling.js";
