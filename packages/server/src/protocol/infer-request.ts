import { isUtf8 } from "node:buffer";
import { z } from "zod";
import { badRequest } from "./protocol-error.js";

/**
 * The Open Inference Protocol infer request header (JSON), validated once at the boundary.
 * Structure is strict: a misspelt member ("input", "datatypes") is rejected with 400 naming it,
 * rather than silently ignored. `parameters` objects stay open, as the protocol makes them the
 * extension point; the parameters this server reads are type-checked.
 */
const parameterValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const inputSchema = z.strictObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  datatype: z.string(),
  parameters: z.looseObject({ binary_data_size: z.number().int().nonnegative().optional() }).catchall(parameterValue).optional(),
  data: z.unknown().optional(),
});

const outputSchema = z.strictObject({
  name: z.string().min(1),
  parameters: z.object({ binary_data: z.boolean().optional() }).catchall(parameterValue).optional(),
});

export const inferRequestSchema = z.strictObject({
  id: z.string().optional(),
  parameters: z
    .looseObject({
      binary_data_output: z.boolean().optional(),
      truncate: z.boolean().optional(),
      replace_invalid_utf8: z.boolean().optional(),
    })
    .catchall(parameterValue)
    .optional(),
  inputs: z.array(inputSchema),
  outputs: z.array(outputSchema).optional(),
});

/** The text input's name; it carries UTF-8 strings (BYTES), so any other datatype is a client's mix-up. */
export const TEXT_INPUT = "text";

export type InferRequestHeader = z.infer<typeof inferRequestSchema>;
export type InputHeader = InferRequestHeader["inputs"][number];

/** A decoded input tensor: BYTES as strings, integer types widened to int64. */
export type InputData = { kind: "bytes"; values: string[] } | { kind: "int"; values: BigInt64Array };

export interface DecodedInput {
  name: string;
  datatype: string;
  shape: number[];
  data: InputData;
}

export interface RequestedOutput {
  name: string;
  binary: boolean;
  /** The classification extension's `classification` parameter (tritonclient's class_count), unchecked. */
  classCount?: unknown;
}

/** An infer call as the protocol layer handles it, whatever transport carried it. */
export interface InferCall {
  id: string | undefined;
  truncate: boolean;
  /** The request's replace_invalid_utf8: text bytes that are not UTF-8 become U+FFFD instead of a 400. */
  replaceInvalidUtf8: boolean;
  inputs: DecodedInput[];
  /** Undefined: every output of the model. */
  outputs: RequestedOutput[] | undefined;
  /** Whether outputs not named in `outputs` come back as binary (binary_data_output). */
  binaryByDefault: boolean;
}

export function parseInferHeader(json: unknown): InferRequestHeader {
  const parsed = inferRequestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "request" : issue.path.join(".");
  const detail =
    issue?.code === "unrecognized_keys"
      ? `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(", ")}: the infer request has id, parameters, inputs and outputs; an input has name, shape, datatype, parameters and data; an output has name and parameters`
      : (issue?.message ?? "invalid");
  return badRequestThrow(`invalid infer request at ${where}: ${detail}`);
}

function badRequestThrow(message: string): never {
  throw badRequest(message);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

export const INTEGER_DATATYPES = new Set(["INT64", "INT32"]);

/**
 * Nesting a request header may have: the header, its inputs, an input, and [rows, tokens] data
 * nested per dimension need under ten; the cap keeps a 200,000-deep `data` (which JSON.parse takes)
 * away from recursive code that would overflow the stack.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether a parsed JSON value nests deeper than `max` arrays and objects (never recursing past it). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => nestsDeeperThan(child, max - 1));
}

// Not in TypeScript's ES2023 lib; Node 20 has both (V8 11.3).
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * A JSON string as text: one with a lone surrogate ("\ud800" escapes) is not Unicode, so it is
 * refused unless the request asks for replacement (U+FFFD), as for invalid UTF-8 bytes.
 */
function wellFormed(input: InputHeader, index: number, value: string, replace: boolean): string {
  const text = value as WellFormedString;
  if (text.isWellFormed()) return value;
  if (replace) return text.toWellFormed();
  throw badRequest(
    `input "${input.name}" element ${index} holds a lone UTF-16 surrogate, which is not text; send valid Unicode, or set the request parameter "replace_invalid_utf8": true to have it replaced by U+FFFD`,
  );
}

/** Reads JSON `data` (flat or nested, row-major) into the decoded form, checking its element count. */
export function decodeJsonData(input: InputHeader, replaceInvalidUtf8 = false): InputData {
  if (input.data === undefined) throw badRequest(`input "${input.name}" has no data and no binary_data_size parameter`);
  const flat = Array.isArray(input.data) ? (input.data as unknown[]).flat(Infinity) : [input.data];
  const expected = elementCount(input.shape);
  if (flat.length !== expected) {
    throw badRequest(`input "${input.name}" has ${flat.length} element(s) but its shape [${input.shape.join(", ")}] holds ${expected}`);
  }
  if (input.datatype === "BYTES") {
    const values = flat.map((value, index) => {
      if (typeof value !== "string")
        throw badRequest(`input "${input.name}" element ${index} is not a string (BYTES elements are strings in JSON)`);
      return wellFormed(input, index, value, replaceInvalidUtf8);
    });
    return { kind: "bytes", values };
  }
  if (INTEGER_DATATYPES.has(input.datatype)) {
    const values = new BigInt64Array(flat.length);
    flat.forEach((value, index) => {
      if (typeof value !== "number" || !Number.isSafeInteger(value)) {
        throw badRequest(`input "${input.name}" element ${index} is not an integer (${input.datatype})`);
      }
      values[index] = BigInt(value);
    });
    return { kind: "int", values };
  }
  throw badRequest(`input "${input.name}" has datatype ${input.datatype}; this server takes BYTES (text) or INT64/INT32 (token ids)`);
}

/** Reads one input's binary bytes (little-endian) into the decoded form. */
export function decodeBinaryData(input: InputHeader, bytes: Buffer, replaceInvalidUtf8 = false): InputData {
  const expected = elementCount(input.shape);
  if (input.datatype === "BYTES") {
    const values: string[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length)
        throw badRequest(`input "${input.name}": BYTES element ${values.length} is cut inside its 4-byte length`);
      const length = bytes.readUInt32LE(offset);
      offset += 4;
      if (offset + length > bytes.length)
        throw badRequest(
          `input "${input.name}": BYTES element ${values.length} says ${length} bytes but only ${bytes.length - offset} remain`,
        );
      const element = bytes.subarray(offset, offset + length);
      if (!replaceInvalidUtf8 && !isUtf8(element)) {
        throw badRequest(
          `input "${input.name}": BYTES element ${values.length} is not valid UTF-8; send UTF-8 text, or set the request parameter "replace_invalid_utf8": true to have invalid bytes replaced by U+FFFD`,
        );
      }
      values.push(element.toString("utf8"));
      offset += length;
    }
    if (values.length !== expected) {
      throw badRequest(
        `input "${input.name}" has ${values.length} BYTES element(s) but its shape [${input.shape.join(", ")}] holds ${expected}`,
      );
    }
    return { kind: "bytes", values };
  }
  const width = input.datatype === "INT64" ? 8 : input.datatype === "INT32" ? 4 : 0;
  if (width === 0)
    throw badRequest(`input "${input.name}" has datatype ${input.datatype}; this server takes BYTES (text) or INT64/INT32 (token ids)`);
  if (bytes.length !== expected * width) {
    throw badRequest(
      `input "${input.name}": binary_data_size ${bytes.length} is not ${expected} ${input.datatype} element(s) of ${width} bytes for shape [${input.shape.join(", ")}]`,
    );
  }
  const values = new BigInt64Array(expected);
  for (let index = 0; index < expected; index += 1) {
    values[index] = width === 8 ? bytes.readBigInt64LE(index * 8) : BigInt(bytes.readInt32LE(index * 4));
  }
  return { kind: "int", values };
}
