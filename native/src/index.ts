export * from "./loader.js";
