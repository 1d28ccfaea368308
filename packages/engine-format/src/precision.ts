import { ForgeError } from "@trtforge/core";

export const PRECISIONS = ["fp32", "fp16", "int8"] as const;
export type Precision = (typeof PRECISIONS)[number];

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

export function parsePrecision(value: string, input = "--precision"): Precision {
  if (isPrecision(value)) return value;
  throw new ForgeError("INVALID_PRECISION", `unknown precision "${value}" given by ${input}`, {
    input,
    fix: `use one of ${PRECISIONS.join(", ")}`,
  });
}
