/**
 * Protobuf text format for Triton's config.pbtxt, written from plain values. Only what model configs
 * use: scalars, enum identifiers, messages, repeated fields and map fields (`parameters`,
 * `cc_model_filenames`, `input_map`).
 */
export type PbValue = string | number | boolean | PbEnum | PbMessage | PbMap | readonly PbScalar[] | readonly PbMessage[];
type PbScalar = string | number | boolean | PbEnum;
export interface PbMessage {
  readonly [field: string]: PbValue | undefined;
}

/** An enum value (KIND_GPU, TYPE_INT64): written bare, not quoted. */
export class PbEnum {
  constructor(readonly name: string) {}
}

/** A proto map field: written as repeated `{ key: … value: … }` entries, in the given order. */
export class PbMap {
  constructor(readonly entries: ReadonlyArray<readonly [string, string | PbMessage]>) {}
}

export function pbEnum(name: string): PbEnum {
  return new PbEnum(name);
}

function scalar(value: PbScalar): string {
  if (value instanceof PbEnum) return value.name;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`config value ${value} is not finite`);
    return String(value);
  }
  return value ? "true" : "false";
}

function isMessage(value: unknown): value is PbMessage {
  return typeof value === "object" && value !== null && !(value instanceof PbEnum) && !(value instanceof PbMap) && !Array.isArray(value);
}

function message(fields: PbMessage, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (value instanceof PbMap) {
      for (const [key, entry] of value.entries) {
        if (typeof entry === "string") lines.push(`${indent}${name} { key: ${scalar(key)} value: ${scalar(entry)} }`);
        else
          lines.push(
            `${indent}${name} {`,
            `${indent}  key: ${scalar(key)}`,
            `${indent}  value {`,
            ...message(entry, `${indent}    `),
            `${indent}  }`,
            `${indent}}`,
          );
      }
    } else if (Array.isArray(value)) {
      const items = value as readonly (PbScalar | PbMessage)[];
      if (items.length === 0) continue;
      if (items.every((item) => !isMessage(item))) {
        lines.push(`${indent}${name}: [ ${(items as PbScalar[]).map(scalar).join(", ")} ]`);
      } else {
        for (const item of items as PbMessage[]) lines.push(`${indent}${name} {`, ...message(item, `${indent}  `), `${indent}}`);
      }
    } else if (isMessage(value)) {
      lines.push(`${indent}${name} {`, ...message(value, `${indent}  `), `${indent}}`);
    } else {
      lines.push(`${indent}${name}: ${scalar(value as PbScalar)}`);
    }
  }
  return lines;
}

/** The whole config.pbtxt text, one field per line, ending with a newline. */
export function toPbtxt(config: PbMessage): string {
  return `${message(config, "").join("\n")}\n`;
}
