import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { ForgeError, fsError, sha256File, sha256Hex } from "@trtforge/core";
import {
  COMPUTE_CAPABILITY_PATTERN,
  encodeModelId,
  parseEngineName,
  parseTrtVersion,
  readSidecar,
  shortenRevision,
  sidecarPath,
  trtVersionsAgree,
  type EngineMetadata,
  type LegacyReading,
  type PlanHeader,
} from "@trtforge/engine-format";
import { classifyEngineFile, classifyEngineHead, ENGINE_HEAD_BYTES, type EngineBytes } from "./engine-bytes.js";
import type { Check, Problem, ProblemCode } from "./problems.js";
import { computeCapabilityVerdict, rtxComputeCapabilityVerdict, rtxRuntimeVerdict, trtRuntimeVerdict } from "./runtime-compat.js";
import { checksumMismatchMessage, readStoreEvidence, type StoreEvidence } from "./store-evidence.js";

export interface RuntimeTarget {
  /** TensorRT version of the runtime that would load the engine, e.g. "10.13.3". */
  trtVersion?: string;
  /** Compute capability of the GPU that would run it, e.g. "8.6". */
  computeCapability?: string;
  /** TensorRT-RTX version of the runtime, where the host has one, e.g. "1.7.1.116". */
  trtRtxVersion?: string;
}

export interface VerifyOptions {
  /** Fail on markers: what a runtime asks before loading anything. */
  requireReal?: boolean;
  runtime?: RuntimeTarget;
  /** Read JustNewsAgent sidecars as a warning instead of a problem; they still cannot be fully verified. */
  allowLegacy?: boolean;
  /** Metadata path; defaults to the engine path with .json for .engine. */
  sidecar?: string;
  /**
   * The engine's bytes, already read (a runtime about to load them): checked instead of the file,
   * so what is verified is exactly what gets loaded, read once.
   */
  contents?: Buffer;
}

export interface VerifyReport {
  ok: boolean;
  engine: string;
  sidecar: string;
  kind: "engine" | "marker" | "unknown";
  schema: "v1" | "legacy" | null;
  problems: Problem[];
  warnings: Problem[];
  checks: Check[];
  sha256: string;
  size: number;
  plan_header: PlanHeader | null;
  metadata: EngineMetadata | null;
}

/** Accumulates checks and problems while a verification runs. */
class Findings {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  readonly checks: Check[] = [];

  pass(name: string, detail: string): void {
    this.checks.push({ name, status: "pass", detail });
  }
  skip(name: string, detail: string): void {
    this.checks.push({ name, status: "skip", detail });
  }
  fail(name: string, code: ProblemCode, message: string): void {
    this.checks.push({ name, status: "fail", detail: message });
    this.problems.push({ code, message });
  }
  warn(code: ProblemCode, message: string): void {
    this.warnings.push({ code, message });
  }
}

function validateRuntime(runtime: RuntimeTarget | undefined): void {
  if (runtime?.trtVersion !== undefined && !parseTrtVersion(runtime.trtVersion)) {
    throw new ForgeError("INVALID_OPTION", `--runtime-trt-version "${runtime.trtVersion}" is not a TensorRT version`, {
      input: "--runtime-trt-version",
      fix: "give major.minor[.patch[.build]], e.g. 10.13.3",
    });
  }
  if (runtime?.trtRtxVersion !== undefined && !parseTrtVersion(runtime.trtRtxVersion)) {
    throw new ForgeError("INVALID_OPTION", `--runtime-trt-rtx-version "${runtime.trtRtxVersion}" is not a TensorRT-RTX version`, {
      input: "--runtime-trt-rtx-version",
      fix: "give major.minor[.patch[.build]], e.g. 1.7.1.116",
    });
  }
  if (runtime?.computeCapability !== undefined && !COMPUTE_CAPABILITY_PATTERN.test(runtime.computeCapability)) {
    throw new ForgeError("INVALID_OPTION", `--runtime-compute-capability "${runtime.computeCapability}" is not a compute capability`, {
      input: "--runtime-compute-capability",
      fix: "give major.minor, e.g. 8.6 (nvidia-smi --query-gpu=compute_cap --format=csv)",
    });
  }
}

async function engineSize(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw fsError(err, path, "verifying engine");
  }
  if (!info.isFile()) {
    throw new ForgeError("NOT_A_FILE", `verifying engine: ${path} is not a file`, { input: path, fix: "pass the path of an .engine file" });
  }
  return info.size;
}

function describeBytes(bytes: EngineBytes): "engine" | "marker" | "unknown" {
  if (bytes.kind === "plan" || bytes.kind === "truncated-plan") return "engine";
  if (bytes.kind === "marker" || bytes.kind === "broken-marker" || bytes.kind === "legacy-marker") return "marker";
  return "unknown";
}

function checkBytes(bytes: EngineBytes, path: string, f: Findings): void {
  switch (bytes.kind) {
    case "plan":
      if (bytes.header.library === "tensorrt-rtx") {
        const unknown = bytes.header.unknown_target_bits ?? [];
        f.pass(
          "format",
          `TensorRT-RTX plan (magic "vtrt"), header says TensorRT-RTX ${bytes.header.version}, targets compute capability ${(bytes.header.compute_capabilities ?? []).join(" ") || "none"}${unknown.length > 0 ? ` (and unknown target bit ${unknown.join(", ")})` : ""}`,
        );
      } else {
        f.pass("format", `TensorRT plan (magic "ftrt"), header says TensorRT ${bytes.header.version}`);
      }
      return;
    case "marker":
      f.pass("format", "trtforge marker (magic header and valid JSON body)");
      return;
    case "truncated-plan":
      f.fail(
        "format",
        "ENGINE_TRUNCATED",
        `${path} starts like a TensorRT plan but ends before its header is complete, or is shorter than its header says`,
      );
      return;
    case "broken-marker":
      f.fail("format", "ENGINE_TRUNCATED", `${path} starts like a trtforge marker but its body is damaged: ${bytes.reason}`);
      return;
    case "legacy-marker":
      f.fail(
        "format",
        "LEGACY_MARKER",
        `${path} is a JustNewsAgent text marker, not an engine and not a trtforge marker; rebuild it with build-engine`,
      );
      return;
    case "unknown":
      f.fail(
        "format",
        "ENGINE_UNRECOGNIZED",
        `${path} is neither a TensorRT plan (8.6+, magic "ftrt"), a TensorRT-RTX plan (magic "vtrt") nor a trtforge marker`,
      );
  }
}

function checkName(path: string, metadata: EngineMetadata, f: Findings): void {
  let parsed;
  try {
    parsed = parseEngineName(basename(path));
  } catch (err) {
    f.fail("name", "NAME_INVALID", (err as Error).message);
    return;
  }
  const expected = {
    task: metadata.task,
    model: metadata.model_id,
    revision: shortenRevision(metadata.hf_revision),
    trt: metadata.trt_version,
    precision: metadata.precision,
    library: metadata.library ?? "tensorrt",
  };
  const actual = {
    task: parsed.task,
    model: parsed.modelId,
    revision: parsed.revision,
    trt: parsed.trtVersion,
    precision: parsed.precision,
    library: parsed.library ?? "tensorrt",
  };
  const differing = (Object.keys(expected) as (keyof typeof expected)[]).filter((k) => expected[k] !== actual[k]);
  if (differing.length > 0) {
    f.fail(
      "name",
      "NAME_MISMATCH",
      `file name and metadata disagree on ${differing.map((k) => `${k} (name: ${actual[k]}, metadata: ${expected[k]})`).join(", ")}`,
    );
    return;
  }
  f.pass("name", "file name agrees with metadata (task, model, revision, library and its version, precision)");
}

function checkConsistency(metadata: EngineMetadata, f: Findings): void {
  let encoded: string | undefined;
  try {
    encoded = encodeModelId(metadata.model_id);
  } catch {
    encoded = undefined;
  }
  if (encoded !== metadata.model_name) {
    f.fail(
      "metadata",
      "METADATA_INCONSISTENT",
      `model_name "${metadata.model_name}" is not the file-name form of model_id "${metadata.model_id}"`,
    );
    return;
  }
  const rtx = metadata.library === "tensorrt-rtx";
  // TensorRT-RTX compiles ahead of time without a GPU: its targets take the place of the build GPU.
  if (metadata.kind === "engine" && metadata.gpu === null && !(rtx && metadata.target_compute_capabilities !== undefined)) {
    f.fail(
      "metadata",
      "METADATA_INCONSISTENT",
      rtx
        ? "a TensorRT-RTX engine's metadata must list its target_compute_capabilities"
        : "an engine's metadata must name the GPU that built it (gpu is null)",
    );
    return;
  }
  f.pass("metadata", "schema v1, fields consistent");
}

function checkKind(bytes: EngineBytes, metadata: EngineMetadata, f: Findings): void {
  if (bytes.kind === "plan" && metadata.kind !== "engine") {
    f.fail("kind", "KIND_MISMATCH", `the file is a TensorRT plan but its metadata says kind "${metadata.kind}"`);
  } else if (bytes.kind === "marker" && metadata.kind !== "marker") {
    f.fail(
      "kind",
      "KIND_MISMATCH",
      `the file is a marker but its metadata says kind "${metadata.kind}": a marker must never pass as an engine`,
    );
  } else if (bytes.kind === "plan" || bytes.kind === "marker") {
    f.pass("kind", `file and metadata agree: ${metadata.kind}`);
  }
  if (bytes.kind === "marker") {
    const body = bytes.body;
    const differing = (["task", "model_id", "hf_revision", "trt_version", "precision"] as const).filter((k) => body[k] !== metadata[k]);
    if (differing.length > 0) {
      f.fail(
        "marker",
        "MARKER_MISMATCH",
        `marker body and metadata disagree on ${differing.map((k) => `${k} (marker: ${body[k]}, metadata: ${metadata[k]})`).join(", ")}`,
      );
    }
  }
  if (bytes.kind === "plan") {
    const library = metadata.library ?? "tensorrt";
    if (bytes.header.library !== library) {
      f.fail(
        "plan-library",
        "PLAN_LIBRARY_MISMATCH",
        `the file is a ${bytes.header.library} plan but its metadata says library ${library}`,
      );
      return;
    }
    const inPlan = bytes.header.compute_capabilities;
    const recorded = metadata.target_compute_capabilities;
    if (inPlan !== undefined && recorded !== undefined) {
      const same = [...inPlan].sort().join(" ") === [...recorded].sort().join(" ");
      if (same) f.pass("plan-targets", `plan targets ${inPlan.join(" ")} agree with metadata`);
      else f.fail("plan-targets", "PLAN_TARGETS_MISMATCH", `the plan targets ${inPlan.join(" ")}, the metadata says ${recorded.join(" ")}`);
    }
    const declared = parseTrtVersion(metadata.trt_version);
    const inFile = parseTrtVersion(bytes.header.version)!;
    if (!declared || !trtVersionsAgree(declared, inFile)) {
      f.fail(
        "plan-version",
        "PLAN_VERSION_MISMATCH",
        `the plan header says TensorRT ${bytes.header.version}, the metadata says ${metadata.trt_version}`,
      );
    } else {
      f.pass("plan-version", `plan header TensorRT ${bytes.header.version} agrees with metadata ${metadata.trt_version}`);
    }
  }
}

/**
 * In a store version, the manifest recorded every file as published: a sidecar that differs from
 * that record was edited after publication, whatever its fields say.
 */
function checkPublished(enginePath: string, sha256: string, evidence: StoreEvidence | undefined, f: Findings): void {
  if (evidence === undefined || (evidence.sidecar === undefined && evidence.engine === undefined)) {
    f.skip("published", "no store manifest beside the engine lists it");
    return;
  }
  const failures: string[] = [];
  const sidecar = evidence.sidecar;
  if (sidecar?.now != null && sidecar.now.sha256 !== sidecar.published.sha256) {
    const sizes =
      sidecar.published.size !== undefined && sidecar.published.size !== sidecar.now.size
        ? ` and ${sidecar.now.size} bytes instead of ${sidecar.published.size}`
        : "";
    f.fail(
      "published",
      "SIDECAR_CHANGED",
      `the sidecar is not the one published: its sha256 is ${sidecar.now.sha256} instead of ${sidecar.published.sha256}${sizes} (${evidence.manifest}); it was edited after publication: publish a fresh build, or restore the published sidecar`,
    );
    failures.push("sidecar");
  }
  if (evidence.engine !== undefined && evidence.engine !== sha256) {
    f.fail(
      "published",
      "ENGINE_CHANGED",
      `${enginePath} is not the engine published: its sha256 is ${sha256} instead of ${evidence.engine} (${evidence.manifest})`,
    );
    failures.push("engine");
  }
  if (failures.length === 0) f.pass("published", `engine and sidecar are the ones ${evidence.manifest} records`);
}

/**
 * max_batch_size and seq_len are the profile's largest shape, which the sidecar states three times:
 * in those two fields, in every input's max_shape ([batch, sequence]), and, in a store version,
 * in the manifest's shapes. An edit to one of them leaves the others disagreeing.
 */
function checkProfile(metadata: EngineMetadata, evidence: StoreEvidence | undefined, f: Findings): void {
  const differing: string[] = [];
  for (const input of metadata.inputs) {
    const [batch, seq] = input.max_shape;
    if (batch !== undefined && batch !== metadata.max_batch_size)
      differing.push(`max_batch_size ${metadata.max_batch_size} but input ${input.name} allows batch ${batch}`);
    if (input.max_shape.length === 2 && seq !== metadata.seq_len)
      differing.push(`seq_len ${metadata.seq_len} but input ${input.name} allows sequence length ${seq}`);
  }
  const published = evidence?.maxShape;
  if (published !== undefined) {
    if (published[0] !== metadata.max_batch_size)
      differing.push(`max_batch_size ${metadata.max_batch_size} but the store manifest records ${published[0]}`);
    if (published[1] !== metadata.seq_len) differing.push(`seq_len ${metadata.seq_len} but the store manifest records ${published[1]}`);
  }
  if (differing.length > 0) {
    f.fail("profile", "PROFILE_MISMATCH", `the sidecar's profile limits disagree: ${differing.join("; ")}`);
    return;
  }
  f.pass(
    "profile",
    `max_batch_size ${metadata.max_batch_size} and seq_len ${metadata.seq_len} agree with the inputs' max shapes${published === undefined ? "" : " and the store manifest"}`,
  );
}

function checkRtxRuntime(metadata: EngineMetadata, runtime: RuntimeTarget | undefined, f: Findings): void {
  if (runtime?.trtVersion !== undefined || runtime?.trtRtxVersion !== undefined) {
    const verdict = rtxRuntimeVerdict(metadata.trt_version, runtime);
    if (verdict.ok) f.pass("runtime-trt", verdict.detail);
    else f.fail("runtime-trt", "RUNTIME_TRT_MISMATCH", verdict.detail);
  } else {
    f.skip("runtime-trt", "no runtime version given");
  }
  if (runtime?.computeCapability !== undefined) {
    const verdict = rtxComputeCapabilityVerdict(metadata.target_compute_capabilities ?? [], runtime.computeCapability);
    if (verdict.ok) f.pass("runtime-cc", verdict.detail);
    else f.fail("runtime-cc", "RUNTIME_CC_MISMATCH", verdict.detail);
  } else {
    f.skip("runtime-cc", "no --runtime-compute-capability given");
  }
}

function checkRuntime(metadata: EngineMetadata, runtime: RuntimeTarget | undefined, f: Findings): void {
  if (metadata.library === "tensorrt-rtx") {
    checkRtxRuntime(metadata, runtime, f);
    return;
  }
  if (runtime?.trtVersion !== undefined) {
    const verdict = trtRuntimeVerdict(metadata.trt_version, runtime.trtVersion, metadata.version_compatible);
    if (verdict.ok) f.pass("runtime-trt", verdict.detail);
    else f.fail("runtime-trt", "RUNTIME_TRT_MISMATCH", verdict.detail);
  } else {
    f.skip("runtime-trt", "no --runtime-trt-version given");
  }
  if (runtime?.computeCapability !== undefined) {
    if (metadata.gpu === null) {
      f.skip("runtime-cc", "no build GPU recorded (marker): compute capability not checked");
      f.warn("RUNTIME_CC_UNKNOWN", "the metadata records no build GPU, so compatibility with the runtime GPU cannot be checked");
    } else {
      const verdict = computeCapabilityVerdict(
        metadata.gpu.compute_capability,
        runtime.computeCapability,
        metadata.hardware_compatibility_level,
      );
      if (verdict.ok) f.pass("runtime-cc", verdict.detail);
      else f.fail("runtime-cc", "RUNTIME_CC_MISMATCH", verdict.detail);
    }
  } else {
    f.skip("runtime-cc", "no --runtime-compute-capability given");
  }
}

function checkLegacy(
  legacy: LegacyReading,
  bytes: EngineBytes,
  runtime: RuntimeTarget | undefined,
  allowLegacy: boolean,
  f: Findings,
): void {
  const message = `the metadata is a JustNewsAgent sidecar (legacy fields: ${legacy.legacyFields.join(", ") || "task, precision, created_at"}); it has no schema version and no checksum, so the engine cannot be fully verified: rebuild it with build-engine`;
  if (allowLegacy) {
    f.warn("LEGACY_METADATA", message);
    f.skip("metadata", "legacy sidecar accepted by --allow-legacy");
  } else {
    f.fail("metadata", "LEGACY_METADATA", message);
  }
  if (bytes.kind === "plan" && legacy.trtVersion !== undefined) {
    const declared = parseTrtVersion(legacy.trtVersion);
    if (!declared || !trtVersionsAgree(declared, parseTrtVersion(bytes.header.version)!)) {
      f.fail(
        "plan-version",
        "PLAN_VERSION_MISMATCH",
        `the plan header says TensorRT ${bytes.header.version}, the legacy sidecar says ${legacy.trtVersion}`,
      );
    }
  }
  if (runtime?.trtVersion !== undefined && legacy.trtVersion !== undefined) {
    const verdict = trtRuntimeVerdict(legacy.trtVersion, runtime.trtVersion, false);
    if (!verdict.ok) f.fail("runtime-trt", "RUNTIME_TRT_MISMATCH", verdict.detail);
  }
}

/**
 * Verifies an engine or marker against its sidecar metadata and, optionally, a runtime. This is the
 * check the runtime runs before it loads anything. Throws ForgeError only when the engine path
 * itself is unusable (missing, a folder) or the runtime target is malformed; everything wrong
 * with the engine is reported as a problem.
 */
export async function verifyEngine(enginePath: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  validateRuntime(options.runtime);
  const { contents } = options;
  const size = contents?.length ?? (await engineSize(enginePath));
  const sidecar = options.sidecar ?? sidecarPath(enginePath);
  const f = new Findings();

  const bytes =
    contents === undefined ? await classifyEngineFile(enginePath, size) : classifyEngineHead(contents.subarray(0, ENGINE_HEAD_BYTES), size);
  checkBytes(bytes, enginePath, f);
  const sha256 = contents === undefined ? await sha256File(enginePath) : sha256Hex(contents);
  const planHeader = bytes.kind === "plan" ? bytes.header : null;
  // The kind reported is what the bytes are, whatever the metadata claims.
  const kind = describeBytes(bytes);
  const report = (schema: VerifyReport["schema"], metadata: EngineMetadata | null): VerifyReport => {
    if (options.requireReal && kind !== "engine") {
      f.fail("real", "MARKER_NOT_REAL", `${enginePath} is a marker, not a TensorRT engine (--require-real)`);
    }
    return {
      ok: f.problems.length === 0,
      engine: enginePath,
      sidecar,
      kind,
      schema,
      problems: f.problems,
      warnings: f.warnings,
      checks: f.checks,
      sha256,
      size,
      plan_header: planHeader,
      metadata,
    };
  };

  const evidence = await readStoreEvidence(enginePath, sidecar);
  checkPublished(enginePath, sha256, evidence, f);

  let reading;
  try {
    reading = await readSidecar(sidecar);
  } catch (err) {
    const code = (err as ForgeError).code;
    if (code === "FILE_NOT_FOUND") f.fail("metadata", "SIDECAR_MISSING", `no metadata beside the engine: ${sidecar} does not exist`);
    else if (code === "JSON_MALFORMED") f.fail("metadata", "SIDECAR_MALFORMED", (err as Error).message);
    else if (code === "METADATA_INVALID") f.fail("metadata", "SIDECAR_INVALID", (err as Error).message);
    else f.fail("metadata", "SIDECAR_MISSING", (err as Error).message);
    return report(null, null);
  }

  if (reading.schema === "legacy") {
    checkLegacy(reading.legacy, bytes, options.runtime, options.allowLegacy ?? false, f);
    return report("legacy", null);
  }

  const metadata = reading.metadata;
  checkConsistency(metadata, f);
  checkName(enginePath, metadata, f);
  if (metadata.checksum === sha256) f.pass("checksum", `sha256 ${sha256} matches metadata`);
  else f.fail("checksum", "CHECKSUM_MISMATCH", checksumMismatchMessage(enginePath, sha256, metadata.checksum, evidence));
  checkProfile(metadata, evidence, f);
  checkKind(bytes, metadata, f);
  checkRuntime(metadata, options.runtime, f);
  return report("v1", metadata);
}

/**
 * The runtime's gate: resolves when the engine is a verified real engine loadable by `runtime`,
 * throws ForgeError CHECK_FAILED listing every problem otherwise.
 */
export async function assertEngineLoadable(enginePath: string, runtime: RuntimeTarget, contents?: Buffer): Promise<VerifyReport> {
  const result = await verifyEngine(enginePath, { requireReal: true, runtime, ...(contents === undefined ? {} : { contents }) });
  if (!result.ok) {
    throw new ForgeError(
      "CHECK_FAILED",
      `refusing to load ${enginePath}:\n${result.problems.map((p) => `  ${p.code}: ${p.message}`).join("\n")}`,
      {
        input: enginePath,
        fix: "rebuild the engine for this runtime with build-engine, or run verify-engine for details",
        details: { problems: result.problems },
      },
    );
  }
  return result;
}
