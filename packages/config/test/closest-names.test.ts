import { describe, expect, it } from "vitest";
import { closestNames, editDistance } from "../src/index.js";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("closestNames", () => {
  it("orders candidates by distance and keeps at most `limit`", () => {
    expect(closestNames("fp61", ["int8", "fp16", "fp32"], 2)).toEqual(["fp16", "fp32"]);
    expect(closestNames("x", [], 3)).toEqual([]);
  });
});
