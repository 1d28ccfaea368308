import { z } from "zod";

/** [batch, sequence] of one end of an optimization profile. */
const ShapeSchema = z.tuple([z.number().int().positive(), z.number().int().positive()]);

/** What build-engine records about an engine/marker version in its manifest metadata, field by field (one bad field hides only itself). */
const FIELDS = {
  kind: z.enum(["engine", "marker"]),
  precision: z.string(),
  trt_version: z.string(),
  shapes: z.object({ min: ShapeSchema, opt: ShapeSchema, max: ShapeSchema }),
  accuracy_gate: z.object({ verdict: z.enum(["passed", "accepted"]), failed: z.array(z.string()) }),
};

export interface BuildFacts {
  kind?: "engine" | "marker";
  precision?: string;
  trtVersion?: string;
  /** min/opt/max of the profile as [batch, sequence]. */
  shapes?: { min: [number, number]; opt: [number, number]; max: [number, number] };
  /** build-engine's accuracy verdict: passed every gate, or published below some with --accept-accuracy (those listed). */
  accuracyGate?: { verdict: "passed" | "accepted"; failed: string[] };
}

/** The build facts a version's metadata holds; empty for versions that are not builds (models, JustNewsAgent's). */
export function buildFacts(metadata: Record<string, unknown>): BuildFacts {
  const kind = FIELDS.kind.safeParse(metadata.kind);
  const precision = FIELDS.precision.safeParse(metadata.precision);
  const trtVersion = FIELDS.trt_version.safeParse(metadata.trt_version);
  const shapes = FIELDS.shapes.safeParse(metadata.shapes);
  const accuracyGate = FIELDS.accuracy_gate.safeParse(metadata.accuracy_gate);
  return {
    ...(kind.success ? { kind: kind.data } : {}),
    ...(precision.success ? { precision: precision.data } : {}),
    ...(trtVersion.success ? { trtVersion: trtVersion.data } : {}),
    ...(shapes.success ? { shapes: shapes.data } : {}),
    ...(accuracyGate.success ? { accuracyGate: accuracyGate.data } : {}),
  };
}

/** "1x1..16x128..32x256" (batch x sequence at min..opt..max), the way list and show print it. */
export function formatShapes(shapes: NonNullable<BuildFacts["shapes"]>): string {
  return [shapes.min, shapes.opt, shapes.max].map(([b, s]) => `${b}x${s}`).join("..");
}

/** The show line of a build's accuracy verdict; undefined for versions without one (models, older builds). */
export function describeAccuracyGate(gate: BuildFacts["accuracyGate"]): string | undefined {
  if (gate === undefined) return undefined;
  if (gate.verdict === "passed") return "passed every accuracy gate";
  return `ACCEPTED below its accuracy gate with --accept-accuracy (${gate.failed.length} check${gate.failed.length === 1 ? "" : "s"} failed):\n${gate.failed.map((f) => `    ${f}`).join("\n")}`;
}
