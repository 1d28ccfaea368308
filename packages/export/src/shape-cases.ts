/** One full [batch, sequence] shape the export is checked at: every position holds a real token. */
export interface ShapeCase {
  name: "min" | "opt" | "max";
  batch: number;
  seqLen: number;
}

/** The exporter's --shapes argument. */
export function formatShapeCases(cases: readonly ShapeCase[]): string {
  return cases.map((c) => `${c.name}:${c.batch}x${c.seqLen}`).join(",");
}
