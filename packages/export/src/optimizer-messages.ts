import { z } from "zod";
import type { LineReading } from "./python-child.js";

/**
 * The JSON-lines protocol of the Python optimizers (CPU- and GPU-serving): progress, log, one result
 * carrying the optimizer's own report, or an error. A stdout line that is not one of them is kept
 * (its first 200 characters) for the error.
 */
export function optimizerLineParser<Report extends z.ZodType>(report: Report) {
  const schema = z.discriminatedUnion("type", [
    z.object({ type: z.literal("progress"), stage: z.string(), current: z.number(), total: z.number(), message: z.string().optional() }),
    z.object({ type: z.literal("log"), level: z.enum(["debug", "info", "warning", "error"]), message: z.string() }),
    z.object({ type: z.literal("result"), report }),
    z.object({ type: z.literal("error"), code: z.string(), message: z.string(), fix: z.string().optional() }),
  ]);
  return (line: string): LineReading<z.infer<typeof schema>> => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { ok: false, reason: line.slice(0, 200) };
    }
    const parsed = schema.safeParse(json);
    return parsed.success ? { ok: true, message: parsed.data } : { ok: false, reason: line.slice(0, 200) };
  };
}
