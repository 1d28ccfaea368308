import { describe, expect, it } from "vitest";
import { assertStoreName, defaultVersionName, isValidStoreName } from "../src/names.js";
import { compareCodePoints } from "@trtforge/fs-kit";

describe("store names", () => {
  it.each(["analyst", "v1", "v20250826-120000", "fact_checker", "A.b-c_9", "x".repeat(128)])("accepts %s", (name) => {
    expect(assertStoreName("version", name)).toBe(name);
  });

  it.each([
    ["", "empty"],
    ["..", '".."'],
    ["a..b", '".."'],
    [".hidden", "dot"],
    ["a/b", "separator"],
    ["a\\b", "separator"],
    ["v1.tmp", ".tmp"],
    ["v1.TMP", ".tmp"],
    ["-v1", "start"],
    ["_v1", "start"],
    ["v 1", "characters"],
    ["vé", "characters"],
    ["x".repeat(129), "129 characters"],
  ])("refuses %j with INVALID_NAME naming the rule", (name, rule) => {
    expect(isValidStoreName(name)).toBe(false);
    try {
      assertStoreName("agent", name);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: "INVALID_NAME", input: "--agent" });
      expect((err as Error).message).toContain(rule);
      expect((err as { fix?: string }).fix).toMatch(/\S/);
    }
  });

  it("names versions after the UTC time like JustNewsAgent's publish script, with seconds", () => {
    expect(defaultVersionName(new Date("2025-08-26T07:05:09.123Z"))).toBe("v20250826-070509");
  });
});

describe("code point order", () => {
  it("sorts like Python's sorted(), not like UTF-16 code units", () => {
    const names = ["\u{1F600}.bin", "\uFF5E.bin", "b", "B", "a", "\u00E9"];
    expect([...names].sort(compareCodePoints)).toEqual(["B", "a", "b", "\u00E9", "\uFF5E.bin", "\u{1F600}.bin"]);
    // The default sort gets the astral character wrong; that is why the comparator exists.
    expect([...names].sort().indexOf("\u{1F600}.bin")).toBeLessThan([...names].sort().indexOf("\uFF5E.bin"));
  });

  it("orders prefixes first", () => {
    expect(compareCodePoints("a", "ab")).toBeLessThan(0);
    expect(compareCodePoints("ab", "a")).toBeGreaterThan(0);
    expect(compareCodePoints("same", "same")).toBe(0);
  });
});
