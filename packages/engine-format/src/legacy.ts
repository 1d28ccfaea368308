import { z } from "zod";

/**
 * Sidecars written by JustNewsAgent before schema v1. Three shapes exist:
 * - the real compiler's (`model_name` holding the task, `num_classes`, `sequence_length`,
 *   `build_time`, `tensorrt_version`),
 * - the marker script's (`task`, `precision`, `created_at`, and for int8 `calibrated`, `calib_data`),
 * - the fp8 marker script's (`model`, `status: "marker_engine"`, `note`, ...).
 * They carry no checksum and no schema version, so they can be read and reported, never verified
 * as v1.
 */
export const LegacySidecarSchema = z.looseObject({
  model_name: z.string().optional(),
  task: z.string().optional(),
  model: z.string().optional(),
  num_classes: z.number().optional(),
  max_batch_size: z.number().optional(),
  sequence_length: z.number().optional(),
  precision: z.string().optional(),
  build_time: z.number().optional(),
  created_at: z.string().optional(),
  tensorrt_version: z.string().optional(),
  status: z.string().optional(),
  calibrated: z.boolean().optional(),
  calib_data: z.string().nullable().optional(),
  note: z.string().optional(),
});

export type LegacySidecar = z.infer<typeof LegacySidecarSchema>;

export const LEGACY_FIELDS = [
  "num_classes",
  "sequence_length",
  "build_time",
  "tensorrt_version",
  "status",
  "calibrated",
  "calib_data",
  "note",
] as const;

export interface LegacyReading {
  sidecar: LegacySidecar;
  /** The task the engine serves: `task`, or the compiler's `model_name` which held the task. */
  task: string | undefined;
  trtVersion: string | undefined;
  /** True when the sidecar itself says it describes a marker, not an engine. */
  saysMarker: boolean;
  /** Which of the legacy-only fields were present; reported so users see why it is legacy. */
  legacyFields: string[];
}

/** True when a JSON object looks like a JustNewsAgent sidecar rather than schema v1. */
export function looksLegacy(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if ("schema_version" in value) return false;
  const keys = Object.keys(value);
  return (
    keys.some((k) => (LEGACY_FIELDS as readonly string[]).includes(k)) ||
    (keys.includes("task") && keys.includes("precision") && keys.includes("created_at"))
  );
}

export function readLegacySidecar(value: unknown): LegacyReading | undefined {
  const parsed = LegacySidecarSchema.safeParse(value);
  if (!parsed.success || !looksLegacy(value)) return undefined;
  const sidecar = parsed.data;
  return {
    sidecar,
    task: sidecar.task ?? sidecar.model_name,
    trtVersion: sidecar.tensorrt_version,
    saysMarker: sidecar.status === "marker_engine" || (sidecar.tensorrt_version === undefined && sidecar.build_time === undefined),
    legacyFields: Object.keys(sidecar).filter((k) => (LEGACY_FIELDS as readonly string[]).includes(k) || k === "model_name"),
  };
}
