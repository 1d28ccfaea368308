import { ForgeError, printable } from "@trtforge/core";
import { isPrecision, PRECISIONS, type Precision } from "./precision.js";
import { TRT_VERSION_PATTERN } from "./trt-version.js";
import type { PlanLibrary } from "./plan-header.js";

/**
 * Engine file names: `<task>.<model>-<hf-rev>-trt-<trt-ver>-<precision>.engine`, and
 * `<task>.<model>-<hf-rev>-trtrtx-<rtx-ver>-<precision>.engine` for a TensorRT-RTX plan, so the name
 * says which library (and so which runtime) the plan is for.
 *
 * - task: lower-case identifier, no dots or dashes (so the first "." ends it).
 * - model: the Hugging Face id with "/" written as "--", the convention of the HF cache
 *   (`models--org--name`). Hugging Face forbids "--" and ".." inside names, so the mapping is
 *   reversible for every valid id.
 * - hf-rev: a commit sha is cut to its first 12 hex digits (lower case); a branch or tag name keeps
 *   [A-Za-z0-9_.] and has any other character, "-" included, replaced by "_". It never holds "-",
 *   so the last "-" before "-trt-" ends the model.
 * - trt-ver: digits and dots; precision: one of PRECISIONS.
 */
export interface EngineName {
  task: string;
  modelId: string;
  /** The revision as it appears in the name (already shortened). */
  revision: string;
  trtVersion: string;
  precision: Precision;
  /** Which library built it; absent: TensorRT. */
  library?: PlanLibrary | undefined;
}

const LIBRARY_TAG: Record<PlanLibrary, string> = { tensorrt: "trt", "tensorrt-rtx": "trtrtx" };

export const TASK_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const MODEL_SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;
const SHA_PATTERN = /^[0-9a-f]{7,64}$/i;
export const SHORT_REVISION_LENGTH = 12;
const MAX_REVISION_NAME = 40;

export function assertTask(task: string, input = "task"): void {
  if (!TASK_PATTERN.test(task)) {
    throw new ForgeError("INVALID_NAME", `invalid task name "${printable(task)}" in ${input}`, {
      input,
      fix: "a task is a lower-case identifier: a letter, then letters, digits or _ (no dots, dashes, slashes or ..)",
    });
  }
}

/**
 * Validates a Hugging Face model id (`name` or `org/name`) by the Hub's own naming rules and
 * returns it. The one copy of the rule: engine names, the store's snapshots and the build's model
 * identity all use it.
 */
export function assertModelId(modelId: string, input = "model id"): string {
  const segments = modelId.split("/");
  const valid =
    segments.length >= 1 && segments.length <= 2 && segments.every((s) => MODEL_SEGMENT.test(s) && !s.includes("--") && !s.includes(".."));
  if (!valid) {
    throw new ForgeError("INVALID_NAME", `invalid Hugging Face model id "${printable(modelId)}" in ${input}`, {
      input,
      fix: 'use a Hugging Face id such as "sentence-transformers/all-MiniLM-L6-v2": at most one "/", letters, digits, ".", "_" and "-", no "--" or "..", no leading or trailing separator',
    });
  }
  return modelId;
}

export function encodeModelId(modelId: string): string {
  assertModelId(modelId);
  return modelId.replace("/", "--");
}

export function decodeModelId(encoded: string): string {
  const modelId = encoded.replace("--", "/");
  assertModelId(modelId, `engine file name part "${encoded}"`);
  return modelId;
}

export function shortenRevision(revision: string): string {
  if (revision.length === 0) {
    throw new ForgeError("INVALID_NAME", "empty Hugging Face revision", {
      input: "revision",
      fix: "pass the commit sha of the model snapshot (or a tag)",
    });
  }
  if (SHA_PATTERN.test(revision)) return revision.slice(0, SHORT_REVISION_LENGTH).toLowerCase();
  return revision.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, MAX_REVISION_NAME);
}

export function formatEngineName(name: EngineName): string {
  assertTask(name.task);
  if (!TRT_VERSION_PATTERN.test(name.trtVersion)) {
    throw new ForgeError("INVALID_NAME", `invalid TensorRT version "${name.trtVersion}"`, {
      input: "trt_version",
      fix: "use digits and dots, e.g. 10.13.3.9",
    });
  }
  if (!isPrecision(name.precision)) {
    throw new ForgeError("INVALID_PRECISION", `unknown precision "${String(name.precision)}"`, {
      input: "precision",
      fix: `use one of ${PRECISIONS.join(", ")}`,
    });
  }
  const revision = shortenRevision(name.revision);
  const tag = LIBRARY_TAG[name.library ?? "tensorrt"];
  return `${name.task}.${encodeModelId(name.modelId)}-${revision}-${tag}-${name.trtVersion}-${name.precision}.engine`;
}

const ENGINE_NAME = new RegExp(
  `^(?<task>[a-z][a-z0-9_]*)\\.(?<model>.+)-(?<revision>[A-Za-z0-9_.]+)-(?<tag>trt|trtrtx)-(?<trt>\\d+(?:\\.\\d+){1,3})-(?<precision>${PRECISIONS.join("|")})\\.engine$`,
);

export function parseEngineName(fileName: string): EngineName {
  const groups = ENGINE_NAME.exec(fileName)?.groups;
  if (!groups) {
    throw new ForgeError(
      "INVALID_ENGINE_NAME",
      `"${fileName}" is not an engine name of the form <task>.<model>-<hf-rev>-trt-<trt-ver>-<precision>.engine (trtrtx-<ver> for TensorRT-RTX)`,
      {
        input: fileName,
        fix: `rename the file, e.g. embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.13.3.9-fp16.engine (precision one of ${PRECISIONS.join(", ")})`,
      },
    );
  }
  let modelId: string;
  try {
    modelId = decodeModelId(groups.model!);
  } catch (err) {
    throw new ForgeError("INVALID_ENGINE_NAME", `engine name "${fileName}" holds an invalid model part "${groups.model}"`, {
      input: fileName,
      fix: 'the model part is the Hugging Face id with "/" written as "--"',
      cause: err,
    });
  }
  return {
    task: groups.task!,
    modelId,
    revision: groups.revision!,
    trtVersion: groups.trt!,
    precision: groups.precision as Precision,
    library: groups.tag === "trtrtx" ? "tensorrt-rtx" : "tensorrt",
  };
}

/** The sidecar metadata file of an engine: the same path with `.json` in place of `.engine`. */
export function sidecarPath(enginePath: string): string {
  return enginePath.endsWith(".engine") ? `${enginePath.slice(0, -".engine".length)}.json` : `${enginePath}.json`;
}
