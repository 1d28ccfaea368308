import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ForgeError } from "@trtforge/core";
import { decodeModelId, encodeModelId, formatEngineName, parseEngineName, PRECISIONS, shortenRevision, sidecarPath } from "../src/index.js";

const alnum = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split(""));
const inner = fc.constantFrom(..."abcXYZ019._-".split(""));
/** A model id segment by the Hub's rules: starts and ends alphanumeric, no "--" or "..". */
const segment = fc
  .tuple(alnum, fc.array(inner, { maxLength: 20 }), alnum)
  .map(([a, mid, z]) => `${a}${mid.join("")}${z}`)
  .filter((s) => !s.includes("--") && !s.includes(".."));
const modelId = fc.oneof(
  segment,
  fc.tuple(segment, segment).map(([o, n]) => `${o}/${n}`),
);
const task = fc
  .tuple(fc.constantFrom(..."abcxyz".split("")), fc.array(fc.constantFrom(..."abz09_".split("")), { maxLength: 12 }))
  .map(([h, t]) => `${h}${t.join("")}`);
const sha = fc.array(fc.constantFrom(..."0123456789abcdefABCDEF".split("")), { minLength: 40, maxLength: 40 }).map((a) => a.join(""));
const branch = fc.array(fc.constantFrom(..."abcv12.-_/".split("")), { minLength: 1, maxLength: 50 }).map((a) => a.join(""));
const trtVersion = fc
  .tuple(fc.nat(99), fc.nat(99), fc.option(fc.nat(99), { nil: undefined }), fc.option(fc.nat(99), { nil: undefined }))
  .map(([a, b, c, d]) => [a, b, c, c === undefined ? undefined : d].filter((x) => x !== undefined).join("."));
const precision = fc.constantFrom(...PRECISIONS);

describe("engine names", () => {
  it("formats the documented example", () => {
    expect(
      formatEngineName({
        task: "embeddings",
        modelId: "sentence-transformers/all-MiniLM-L6-v2",
        revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
        trtVersion: "10.13.3.9",
        precision: "int8",
      }),
    ).toBe("embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.13.3.9-int8.engine");
  });

  it("says in the name that TensorRT-RTX built the plan, and parses it back", () => {
    const name = formatEngineName({
      task: "embeddings",
      modelId: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
      trtVersion: "1.7.1.116",
      precision: "fp16",
      library: "tensorrt-rtx",
    });
    expect(name).toBe("embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trtrtx-1.7.1.116-fp16.engine");
    expect(parseEngineName(name)).toMatchObject({ library: "tensorrt-rtx", trtVersion: "1.7.1.116", precision: "fp16" });
  });

  it("round-trips every valid task, model id, revision, TensorRT version and precision", () => {
    fc.assert(
      fc.property(task, modelId, fc.oneof(sha, branch), trtVersion, precision, (t, m, rev, trt, p) => {
        const name = formatEngineName({ task: t, modelId: m, revision: rev, trtVersion: trt, precision: p });
        const parsed = parseEngineName(name);
        expect(parsed).toEqual({ task: t, modelId: m, revision: shortenRevision(rev), trtVersion: trt, precision: p, library: "tensorrt" });
        // Formatting the parsed name again gives the same file name: shortening is idempotent.
        expect(formatEngineName(parsed)).toBe(name);
        expect(name).not.toMatch(/[/\\]/);
      }),
      { numRuns: 2000 },
    );
  });

  it("encodes model ids reversibly", () => {
    fc.assert(
      fc.property(modelId, (m) => {
        expect(decodeModelId(encodeModelId(m))).toBe(m);
      }),
    );
  });

  it("shortens a commit sha to 12 lower-case hex digits and keeps no dash in branch names", () => {
    expect(shortenRevision("C9745ED1D9F207416BE6D2E6F8DE32D1F16199BF")).toBe("c9745ed1d9f2");
    expect(shortenRevision("release-2024/v1.0")).toBe("release_2024_v1.0");
    fc.assert(
      fc.property(fc.oneof(sha, branch), (rev) => {
        expect(shortenRevision(rev)).not.toContain("-");
      }),
    );
  });

  it.each([
    ["../evil", "sentence-transformers/all-MiniLM-L6-v2"],
    ["a/b", "org/model"],
    ["Embeddings", "org/model"],
    ["task.with.dot", "org/model"],
    ["embeddings", "../../etc/passwd"],
    ["embeddings", "org/sub/model"],
    ["embeddings", "org--x/model"],
    ["embeddings", "org/mo..del"],
    ["embeddings", "org/model-"],
    ["embeddings", ""],
  ])("refuses task %j with model %j", (t, m) => {
    const attempt = () => formatEngineName({ task: t, modelId: m, revision: "main", trtVersion: "10.13", precision: "fp16" });
    expect(attempt).toThrow(ForgeError);
    try {
      attempt();
    } catch (err) {
      expect((err as ForgeError).code).toBe("INVALID_NAME");
      expect((err as ForgeError).exitCode).toBe(12);
      expect((err as ForgeError).message).toContain(t === "embeddings" ? m : t);
    }
  });

  it("refuses an unknown precision when formatting", () => {
    expect(() =>
      formatEngineName({ task: "x", modelId: "a/b", revision: "main", trtVersion: "10.1", precision: "fp64" as never }),
    ).toThrowError(/unknown precision "fp64"/);
  });

  it.each([
    "model.engine",
    "embeddings.org--model-abc-trt-10.1-fp64.engine",
    "embeddings.org--model-abc-trt-x.y-fp16.engine",
    "embeddings.org--model-abc-trt-10.1-fp16.plan",
    "embeddings.org--mo..del-abc-trt-10.1-fp16.engine",
    "Embeddings.org--model-abc-trt-10.1-fp16.engine",
  ])("does not parse %j", (name) => {
    expect(() => parseEngineName(name)).toThrowError(ForgeError);
    try {
      parseEngineName(name);
    } catch (err) {
      expect((err as ForgeError).code).toBe("INVALID_ENGINE_NAME");
      expect((err as ForgeError).message).toContain(name);
    }
  });

  it("puts the sidecar beside the engine", () => {
    expect(sidecarPath("/x/a.b-c-trt-10.1-fp16.engine")).toBe("/x/a.b-c-trt-10.1-fp16.json");
    expect(sidecarPath("/x/plan.bin")).toBe("/x/plan.bin.json");
  });
});
