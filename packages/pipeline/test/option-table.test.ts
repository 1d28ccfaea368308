import { describe, expect, it } from "vitest";
import {
  BUILD_DEFAULTS,
  BUILD_OPTIONS,
  buildKeyOptions,
  normalizeBuildRequest,
  normalizeExportRequest,
  REQUEST_FLAGS,
  requestFromFlags,
  type BuildOptionRow,
  type RequestField,
} from "../src/index.js";

const rows = Object.entries(BUILD_OPTIONS) as [RequestField, BuildOptionRow][];
const normalize = (input: Parameters<typeof normalizeBuildRequest>[0]) =>
  normalizeBuildRequest(input, { defaultArticles: "conf/samples/ag_news_1000.jsonl" });

describe("BUILD_OPTIONS: one row per build option, everything else derived", () => {
  it("gives every field one flag, and no flag or alias twice", () => {
    const names = rows.flatMap(([, row]) => [row.flag, ...(row.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
    for (const [field, row] of rows) expect(REQUEST_FLAGS[field]).toBe(row.flag);
    // The renamed ones users' scripts rely on.
    expect(REQUEST_FLAGS).toMatchObject({ articles: "--calibrate", workspaceMiB: "--workspace", hfTask: "--task" });
  });

  it("derives BUILD_DEFAULTS from the rows' defaults, each of which its own row accepts", () => {
    for (const [field, row] of rows) {
      if ("default" in row && row.default !== undefined) expect(BUILD_DEFAULTS).toHaveProperty(field, row.default);
      else expect(BUILD_DEFAULTS).not.toHaveProperty(field);
      if ((row.kind === "integer" || row.kind === "decimal") && row.default !== undefined) {
        expect(row.default).toBeGreaterThanOrEqual(row.range[0]);
        expect(row.default).toBeLessThanOrEqual(row.range[1]);
      }
      if (row.kind === "choice" && row.default !== undefined) expect(row.choices).toContain(row.default);
    }
  });

  it("checks each numeric row's range with the row's advice, naming the flag", () => {
    for (const [field, row] of rows) {
      if (row.kind !== "integer" && row.kind !== "decimal") continue;
      // The profile's other bounds at their ceilings, so an order check cannot fire before the range check.
      const input = { maxBatch: 4096, sequenceLength: 8192, optSequenceLength: 8192, [field]: String(row.range[1] + 1) };
      let thrown: unknown;
      try {
        normalize(input);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, field).toMatchObject({ code: "INVALID_LIMIT", input: row.flag, fix: row.fix });
      expect((thrown as Error).message).toContain(`${row.flag} must be from ${row.range[0]} to ${row.range[1]}`);
    }
  });

  it("maps commander's values (keyed by flag) onto the request's fields, aliases included", () => {
    expect(requestFromFlags({ calibrate: "a.jsonl", workspace: "512", task: "feature-extraction", maxBatch: "8", json: true })).toEqual({
      articles: "a.jsonl",
      workspaceMiB: "512",
      hfTask: "feature-extraction",
      maxBatch: "8",
    });
    expect(requestFromFlags({ samples: "old.jsonl", seqLen: "64" })).toEqual({ articles: "old.jsonl", sequenceLength: "64" });
    expect(requestFromFlags({ samples: "old.jsonl", calibrate: "new.jsonl" })).toEqual({ articles: "new.jsonl" });
  });

  it("gives the export subcommand the build's defaults and checks (opset 17 from the table, not a literal)", () => {
    expect(normalizeExportRequest({}, "conf/samples")).toEqual({
      hfTask: BUILD_DEFAULTS.hfTask,
      opset: BUILD_DEFAULTS.opset,
      sequenceLength: BUILD_DEFAULTS.sequenceLength,
      articles: "conf/samples",
    });
    expect(() => normalizeExportRequest({ opset: "13" }, "x")).toThrow(/--opset must be from 14 to 40, got 13/);
    expect(() => normalizeExportRequest({ hfTask: "translation" }, "x")).toThrow(/--task "translation" is not one of/);
  });
});

describe("the build key of a Profile", () => {
  it("hashes the profile's five bounds under the flat names it always had, so stores keep finding their builds", () => {
    const key = buildKeyOptions(normalize({ maxBatch: 8, sequenceLength: 64, optSequenceLength: 32 }).build);
    expect(key).not.toHaveProperty("profile");
    expect(key).toMatchObject({ maxBatchSize: 8, optBatchSize: 4, minSeqLen: 1, optSeqLen: 32, seqLen: 64, precision: "fp16" });
  });
});
