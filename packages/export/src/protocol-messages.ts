import { z } from "zod";
import type { LineReading } from "./python-child.js";

/**
 * The JSON-lines protocol every Python child of ours speaks on stdout (the exporter, the CPU- and
 * GPU-serving optimizers, the TensorRT-RTX builder): progress, log, one result carrying that
 * tool's own report, or an error. `code` narrows the error codes where a tool documents them.
 */
export function protocolMessageSchema<Report extends z.ZodType, Code extends z.ZodType<string> = z.ZodString>(report: Report, code?: Code) {
  return z.discriminatedUnion("type", [
    z.object({ type: z.literal("progress"), stage: z.string(), current: z.number(), total: z.number(), message: z.string().optional() }),
    z.object({ type: z.literal("log"), level: z.enum(["debug", "info", "warning", "error"]), message: z.string() }),
    z.object({ type: z.literal("result"), report }),
    z.object({ type: z.literal("error"), code: code ?? (z.string() as unknown as Code), message: z.string(), fix: z.string().optional() }),
  ]);
}

/** Parses one stdout line against `schema`; a line that is not a protocol message is reported (why, and its first 200 characters), not guessed at. */
export function protocolLineParser<Schema extends z.ZodType>(schema: Schema) {
  return (line: string): LineReading<z.infer<Schema>> => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { ok: false, reason: `not JSON: ${line.slice(0, 200)}` };
    }
    const parsed = schema.safeParse(json);
    return parsed.success
      ? { ok: true, message: parsed.data }
      : { ok: false, reason: `not a protocol message: ${z.prettifyError(parsed.error)}: ${line.slice(0, 200)}` };
  };
}
