import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeMarker,
  encodeMarker,
  hasMarkerMagic,
  hasPlanMagic,
  LEGACY_MARKER_PREFIX,
  MARKER_MAGIC,
  readPlanHeader,
  decodeRtxTargets,
  parseTrtVersion,
  trtVersionsAgree,
  compareTrtVersions,
} from "../src/index.js";
import { planBytes } from "./plan-bytes.js";

const body = {
  task: "embeddings",
  model_id: "sentence-transformers/all-MiniLM-L6-v2",
  hf_revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
  trt_version: "10.16.0",
  precision: "int8" as const,
  created_at: "2026-11-28T00:00:00.000Z",
};

describe("marker engines", () => {
  it("round-trips and says it is not an engine", () => {
    const bytes = encodeMarker(body);
    expect(hasMarkerMagic(bytes)).toBe(true);
    expect(hasPlanMagic(bytes)).toBe(false);
    const decoded = decodeMarker(bytes);
    expect(decoded.ok && decoded.body).toMatchObject({ ...body, marker_format: 1 });
    expect(decoded.ok && decoded.body.warning).toMatch(/not a TensorRT engine/);
  });

  it("starts with a non-ASCII byte, unlike a plan's ftrt", () => {
    expect(MARKER_MAGIC[0]).toBe(0x89);
    expect(readPlanHeader(encodeMarker(body))).toEqual({ ok: false, reason: "no-magic" });
  });

  it("detects a truncated marker", () => {
    const bytes = encodeMarker(body);
    for (const cut of [bytes.length - 1, bytes.length - 10, MARKER_MAGIC.length + 3]) {
      const decoded = decodeMarker(bytes.subarray(0, cut));
      expect(decoded.ok).toBe(false);
    }
    expect(decodeMarker(bytes.subarray(0, 5))).toEqual({ ok: false, reason: "no marker magic" });
  });

  it("rejects a marker body with unknown fields or a bad precision", () => {
    const tampered = Buffer.concat([
      MARKER_MAGIC,
      Buffer.from(`${JSON.stringify({ marker_format: 1, warning: "", ...body, precision: "fp64" })}\n`),
    ]);
    const decoded = decodeMarker(tampered);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(/precision/);
  });

  it("never treats JustNewsAgent's text markers as ours", () => {
    const legacy = Buffer.from(`${LEGACY_MARKER_PREFIX}sentiment\nCreated: 2025-08-30 10:00:00\nPrecision: fp16\n`);
    expect(hasMarkerMagic(legacy)).toBe(false);
    expect(hasPlanMagic(legacy)).toBe(false);
  });
});

describe("plan header", () => {
  it("reads the TensorRT version from bytes 24-27", () => {
    expect(readPlanHeader(planBytes([10, 13, 3, 9]))).toEqual({
      ok: true,
      header: { library: "tensorrt", major: 10, minor: 13, patch: 3, build: 9, version: "10.13.3.9" },
    });
    expect(readPlanHeader(planBytes([11, 1, 0, 106])).ok && readPlanHeader(planBytes([11, 1, 0, 106]))).toMatchObject({
      header: { version: "11.1.0.106" },
    });
  });

  it("reports a header cut before the version bytes as truncated", () => {
    expect(readPlanHeader(planBytes([10, 13, 3, 9]).subarray(0, 27))).toEqual({ ok: false, reason: "truncated" });
    expect(readPlanHeader(Buffer.from("ftrt"))).toEqual({ ok: false, reason: "truncated" });
  });

  it("requires the magic at offset 0", () => {
    const shifted = Buffer.concat([Buffer.from([0]), planBytes([10, 1, 0, 0])]);
    expect(readPlanHeader(shifted)).toEqual({ ok: false, reason: "no-magic" });
  });
});

/** Real plans that TensorRT-RTX 1.7.1.116 built, without a GPU, from tiny-cast-relu.onnx. */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name));

describe("TensorRT-RTX plan header (real plans)", () => {
  it("reads the library, version, target mask and declared size of a default-target plan", () => {
    const bytes = fixture("tiny-trtrtx-1.7.1.116-default.plan");
    expect(hasPlanMagic(bytes)).toBe(true);
    expect(readPlanHeader(bytes)).toEqual({
      ok: true,
      header: {
        library: "tensorrt-rtx",
        major: 1,
        minor: 7,
        patch: 1,
        build: 116,
        version: "1.7.1.116",
        compute_capabilities: ["8.0", "8.6", "8.9", "12.0", "12.1"],
        unknown_target_bits: [6],
        declared_bytes: bytes.length,
      },
    });
  });

  it("reads a plan built for compute capability 8.6 alone", () => {
    const bytes = fixture("tiny-trtrtx-1.7.1.116-cc86.plan");
    const reading = readPlanHeader(bytes);
    expect(reading.ok && reading.header).toMatchObject({ library: "tensorrt-rtx", compute_capabilities: ["8.6"], unknown_target_bits: [] });
  });

  it("decodes every target bit the 1.7 API can set", () => {
    expect(decodeRtxTargets(0x3f)).toEqual({ capabilities: ["7.5", "8.0", "8.6", "8.9", "12.0", "12.1"], unknownBits: [] });
    expect(decodeRtxTargets(0x06)).toEqual({ capabilities: ["8.0", "8.6"], unknownBits: [] });
  });

  it("reports an RTX plan cut before its target byte as truncated", () => {
    expect(readPlanHeader(fixture("tiny-trtrtx-1.7.1.116-cc86.plan").subarray(0, 32))).toEqual({ ok: false, reason: "truncated" });
  });
});

describe("TensorRT versions", () => {
  it("agree on the components both state", () => {
    const v = (s: string) => parseTrtVersion(s)!;
    expect(trtVersionsAgree(v("10.13.3"), v("10.13.3.9"))).toBe(true);
    expect(trtVersionsAgree(v("10.13"), v("10.13.0.35"))).toBe(true);
    expect(trtVersionsAgree(v("10.13.3.9"), v("10.13.3.8"))).toBe(false);
    expect(trtVersionsAgree(v("10.13"), v("11.13"))).toBe(false);
    expect(compareTrtVersions(v("10.13.3"), v("10.2.0"))).toBeGreaterThan(0);
    expect(parseTrtVersion("10")).toBeUndefined();
    expect(parseTrtVersion("10.x")).toBeUndefined();
  });
});
