import { appendFile, mkdtemp, readFile, rm, truncate, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serializeMetadata } from "@trtforge/engine-format";
import { assertEngineLoadable, verifyEngine, type VerifyReport } from "../src/index.js";
import { planBytes, writeMarkerFixture, writePlanFixture, writeRtxPlanFixture } from "./fixtures.js";
import { LEGACY_COMPILER_SIDECAR } from "../../../tests/support/legacy-sidecar.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-verify-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const codes = (r: VerifyReport) => r.problems.map((p) => p.code);

describe("verifyEngine on markers", () => {
  it("accepts an intact marker as a marker", async () => {
    const { engine } = await writeMarkerFixture(dir);
    const report = await verifyEngine(engine);
    expect(report).toMatchObject({ ok: true, kind: "marker", schema: "v1", problems: [] });
    expect(report.checks.find((c) => c.name === "checksum")?.status).toBe("pass");
  });

  it("fails a marker under requireReal", async () => {
    const { engine } = await writeMarkerFixture(dir);
    const report = await verifyEngine(engine, { requireReal: true });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(["MARKER_NOT_REAL"]);
  });

  it("finds one appended byte through the checksum", async () => {
    const { engine } = await writeMarkerFixture(dir);
    await appendFile(engine, Buffer.from([0]));
    const report = await verifyEngine(engine);
    expect(report.ok).toBe(false);
    expect(codes(report)).toContain("CHECKSUM_MISMATCH");
  });

  it("finds a truncated marker", async () => {
    const { engine } = await writeMarkerFixture(dir);
    const size = (await readFile(engine)).length;
    await truncate(engine, size - 5);
    const report = await verifyEngine(engine);
    expect(codes(report)).toEqual(expect.arrayContaining(["ENGINE_TRUNCATED", "CHECKSUM_MISMATCH"]));
  });

  it("refuses a marker whose metadata claims a real engine", async () => {
    const { engine, sidecar, metadata } = await writeMarkerFixture(dir);
    await writeFile(sidecar, serializeMetadata({ ...metadata, kind: "engine", gpu: { name: "x", compute_capability: "8.6" } }));
    const report = await verifyEngine(engine);
    expect(report.kind).toBe("marker");
    expect(codes(report)).toContain("KIND_MISMATCH");
  });

  it("finds metadata whose name fields disagree with the file name", async () => {
    const { engine, sidecar, metadata } = await writeMarkerFixture(dir);
    await writeFile(sidecar, serializeMetadata({ ...metadata, task: "sentiment" }));
    const report = await verifyEngine(engine);
    expect(codes(report)).toEqual(expect.arrayContaining(["NAME_MISMATCH", "MARKER_MISMATCH"]));
    expect(report.problems.find((p) => p.code === "NAME_MISMATCH")?.message).toMatch(/task \(name: embeddings, metadata: sentiment\)/);
  });

  it("reports a missing, malformed or invalid sidecar", async () => {
    const { engine, sidecar } = await writeMarkerFixture(dir);
    await writeFile(sidecar, "{ not json");
    expect(codes(await verifyEngine(engine))).toEqual(["SIDECAR_MALFORMED"]);
    await writeFile(sidecar, JSON.stringify({ schema_version: 1, kind: "marker" }));
    expect(codes(await verifyEngine(engine))).toEqual(["SIDECAR_INVALID"]);
    await rm(sidecar);
    const report = await verifyEngine(engine);
    expect(codes(report)).toEqual(["SIDECAR_MISSING"]);
    expect(report.problems[0]?.message).toContain(sidecar);
  });

  it("throws for an engine path that is missing or a folder", async () => {
    await expect(verifyEngine(join(dir, "absent.engine"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await mkdir(join(dir, "folder.engine"));
    await expect(verifyEngine(join(dir, "folder.engine"))).rejects.toMatchObject({ code: "NOT_A_FILE" });
  });
});

describe("verifyEngine on plans (byte layouts from the documented header format)", () => {
  it("accepts a plan whose header agrees with the metadata", async () => {
    const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
    const report = await verifyEngine(engine, { requireReal: true });
    expect(report).toMatchObject({ ok: true, kind: "engine", plan_header: { version: "10.13.3.9" } });
  });

  it("finds a header version that disagrees with trt_version", async () => {
    const { engine, sidecar, metadata } = await writePlanFixture(dir, [10, 13, 3, 9]);
    await writeFile(sidecar, serializeMetadata({ ...metadata, trt_version: "10.12.0.36" }));
    // The name still says 10.13.3.9, so the name check fails too.
    expect(codes(await verifyEngine(engine))).toEqual(expect.arrayContaining(["PLAN_VERSION_MISMATCH", "NAME_MISMATCH"]));
  });

  it("accepts metadata that states fewer version components than the header", async () => {
    const bytes = planBytes([10, 13, 3, 9]);
    const { engine } = await writePlanFixture(dir, [10, 13, 3, 9], {
      trt_version: "10.13.3",
      checksum: (await import("@trtforge/core")).sha256Hex(bytes),
    });
    expect((await verifyEngine(engine)).ok).toBe(true);
  });

  it("finds a plan cut inside its header", async () => {
    const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
    await truncate(engine, 20);
    expect(codes(await verifyEngine(engine))).toEqual(expect.arrayContaining(["ENGINE_TRUNCATED", "CHECKSUM_MISMATCH"]));
  });

  it("finds a file that is neither plan nor marker", async () => {
    const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
    await writeFile(engine, Buffer.from("PK\x03\x04 something else"));
    const report = await verifyEngine(engine);
    expect(report.kind).toBe("unknown");
    expect(codes(report)).toContain("ENGINE_UNRECOGNIZED");
  });

  describe("runtime compatibility", () => {
    it("requires the same TensorRT version unless version-compatible", async () => {
      const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
      expect((await verifyEngine(engine, { runtime: { trtVersion: "10.13.3" } })).ok).toBe(true);
      expect(codes(await verifyEngine(engine, { runtime: { trtVersion: "10.14.1" } }))).toEqual(["RUNTIME_TRT_MISMATCH"]);
    });

    it("lets a version-compatible engine run on newer runtimes of the same or next major", async () => {
      const { engine } = await writePlanFixture(dir, [10, 13, 3, 9], { version_compatible: true });
      expect((await verifyEngine(engine, { runtime: { trtVersion: "10.16.0" } })).ok).toBe(true);
      expect((await verifyEngine(engine, { runtime: { trtVersion: "11.1.0" } })).ok).toBe(true);
      expect(codes(await verifyEngine(engine, { runtime: { trtVersion: "10.2.0" } }))).toEqual(["RUNTIME_TRT_MISMATCH"]);
      expect(codes(await verifyEngine(engine, { runtime: { trtVersion: "12.0.0" } }))).toEqual(["RUNTIME_TRT_MISMATCH"]);
    });

    it("requires the same compute capability unless hardware-compatible", async () => {
      const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
      expect((await verifyEngine(engine, { runtime: { computeCapability: "8.6" } })).ok).toBe(true);
      expect(codes(await verifyEngine(engine, { runtime: { computeCapability: "8.9" } }))).toEqual(["RUNTIME_CC_MISMATCH"]);
    });

    it("lets an Ampere+ hardware-compatible engine run on compute capability 8.0 and newer only", async () => {
      const { engine } = await writePlanFixture(dir, [10, 13, 3, 9], { hardware_compatibility_level: "ampere_plus" });
      expect((await verifyEngine(engine, { runtime: { computeCapability: "9.0" } })).ok).toBe(true);
      expect(codes(await verifyEngine(engine, { runtime: { computeCapability: "7.5" } }))).toEqual(["RUNTIME_CC_MISMATCH"]);
    });

    it("rejects a malformed runtime target as a usage error", async () => {
      const { engine } = await writePlanFixture(dir, [10, 13, 3, 9]);
      await expect(verifyEngine(engine, { runtime: { trtVersion: "ten" } })).rejects.toMatchObject({ code: "INVALID_OPTION" });
      await expect(verifyEngine(engine, { runtime: { computeCapability: "sm86" } })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    });

    it("gates loading: a marker never passes assertEngineLoadable", async () => {
      const marker = await writeMarkerFixture(dir);
      await expect(assertEngineLoadable(marker.engine, { trtVersion: "10.16.0", computeCapability: "8.6" })).rejects.toMatchObject({
        code: "CHECK_FAILED",
        message: expect.stringContaining("MARKER_NOT_REAL"),
      });
      const plan = await writePlanFixture(dir, [10, 13, 3, 9]);
      await expect(assertEngineLoadable(plan.engine, { trtVersion: "10.13.3.9", computeCapability: "8.6" })).resolves.toMatchObject({
        ok: true,
      });
    });
  });
});

describe("verifyEngine on real TensorRT-RTX plans", () => {
  it("recognizes the plan, its version and targets, and agrees with the metadata", async () => {
    const fx = await writeRtxPlanFixture(dir, "default");
    expect(fx.engine).toMatch(/-trtrtx-1\.7\.1\.116-fp32\.engine$/);
    const report = await verifyEngine(fx.engine);
    expect(report.problems).toEqual([]);
    expect(report.kind).toBe("engine");
    expect(report.plan_header).toMatchObject({
      library: "tensorrt-rtx",
      version: "1.7.1.116",
      compute_capabilities: ["8.0", "8.6", "8.9", "12.0", "12.1"],
    });
    expect(report.checks.find((c) => c.name === "format")?.detail).toMatch(/TensorRT-RTX plan.*8\.0 8\.6 8\.9 12\.0 12\.1/);
  });

  it("answers without a GPU: compute capability 8.6 loads, 9.0 does not, with the reason", async () => {
    const fx = await writeRtxPlanFixture(dir, "default");
    const yes = await verifyEngine(fx.engine, { runtime: { computeCapability: "8.6", trtRtxVersion: "1.7.1.116" } });
    expect(yes.problems).toEqual([]);
    expect(yes.checks.find((c) => c.name === "runtime-cc")?.status).toBe("pass");
    const no = await verifyEngine(fx.engine, { runtime: { computeCapability: "9.0", trtRtxVersion: "1.7.1.116" } });
    expect(codes(no)).toEqual(["RUNTIME_CC_MISMATCH"]);
    expect(no.problems[0]!.message).toMatch(/cannot run on compute capability 9\.0: it was compiled for 8\.0 8\.6 8\.9 12\.0 12\.1/);
    const only86 = await verifyEngine((await writeRtxPlanFixture(join(dir), "cc86", { precision: "fp16" })).engine, {
      runtime: { computeCapability: "8.9", trtRtxVersion: "1.7.1.116" },
    });
    expect(codes(only86)).toEqual(["RUNTIME_CC_MISMATCH"]);
  });

  it("refuses a TensorRT runtime for a TensorRT-RTX plan", async () => {
    const fx = await writeRtxPlanFixture(dir, "default");
    const report = await verifyEngine(fx.engine, { runtime: { trtVersion: "10.16.0", computeCapability: "8.6" } });
    expect(codes(report)).toEqual(["RUNTIME_TRT_MISMATCH"]);
    expect(report.problems[0]!.message).toMatch(/loads only on the TensorRT-RTX runtime, not on TensorRT 10\.16\.0/);
  });

  it("finds metadata whose targets or library disagree with the plan", async () => {
    const targets = await writeRtxPlanFixture(dir, "cc86", { target_compute_capabilities: ["8.9"] });
    expect(codes(await verifyEngine(targets.engine))).toEqual(["PLAN_TARGETS_MISMATCH"]);
    await rm(targets.engine);
    const sub = join(dir, "lib");
    await mkdir(sub);
    const library = await writeRtxPlanFixture(sub, "cc86", {
      library: "tensorrt",
      gpu: { name: "NVIDIA GeForce RTX 3090", compute_capability: "8.6" },
    });
    expect(codes(await verifyEngine(library.engine))).toContain("PLAN_LIBRARY_MISMATCH");
  });

  it("finds a real plan cut short of the size its header declares", async () => {
    const fx = await writeRtxPlanFixture(dir, "cc86");
    await truncate(fx.engine, 100_000);
    expect(codes(await verifyEngine(fx.engine))).toContain("ENGINE_TRUNCATED");
  });
});

describe("legacy JustNewsAgent engines", () => {
  it("reports the sidecar as legacy and fails unless allowed", async () => {
    const engine = join(dir, "native_sentiment_roberta.engine");
    await writeFile(engine, planBytes([10, 10, 0, 31]));
    await writeFile(join(dir, "native_sentiment_roberta.json"), JSON.stringify(LEGACY_COMPILER_SIDECAR));
    const strict = await verifyEngine(engine);
    expect(strict).toMatchObject({ ok: false, schema: "legacy", kind: "engine" });
    expect(codes(strict)).toEqual(["LEGACY_METADATA"]);
    const lenient = await verifyEngine(engine, { allowLegacy: true });
    expect(lenient).toMatchObject({ ok: true, schema: "legacy" });
    expect(lenient.warnings.map((w) => w.code)).toEqual(["LEGACY_METADATA"]);
    expect(codes(await verifyEngine(engine, { allowLegacy: true, runtime: { trtVersion: "10.13.3" } }))).toEqual(["RUNTIME_TRT_MISMATCH"]);
  });

  it("refuses JustNewsAgent text markers", async () => {
    const engine = join(dir, "native_bias_bert.engine");
    await writeFile(engine, "Marker TensorRT engine for bias\nCreated: 2025-08-30 10:00:00\nPrecision: fp16\n");
    await writeFile(
      join(dir, "native_bias_bert.json"),
      JSON.stringify({ task: "bias", precision: "fp16", created_at: "2025-08-30 10:00:00" }),
    );
    const report = await verifyEngine(engine, { allowLegacy: true });
    expect(report.kind).toBe("marker");
    expect(codes(report)).toEqual(["LEGACY_MARKER"]);
  });
});
