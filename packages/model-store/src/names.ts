import { z } from "zod";
import { ForgeError, printable } from "@trtforge/core";

/** Agent and version names become single path components, so the rules keep them inert there. */
export const MAX_NAME_LENGTH = 128;
const NAME_CHARACTERS = /^[A-Za-z0-9._-]+$/;
export const STAGING_SUFFIX = ".tmp";

export type NameKind = "agent" | "version";

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_NAME_LENGTH) return `it is ${name.length} characters long (at most ${MAX_NAME_LENGTH})`;
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (name.includes("..")) return 'it contains ".."';
  if (name.startsWith(".")) return "it starts with a dot (hidden names are the store's own bookkeeping)";
  if (name.toLowerCase().endsWith(STAGING_SUFFIX)) return `it ends in "${STAGING_SUFFIX}", the suffix of staging folders`;
  if (!NAME_CHARACTERS.test(name)) return "it contains characters other than letters, digits, '.', '_' and '-'";
  if (!/^[A-Za-z0-9]/.test(name)) return "it does not start with a letter or a digit";
  return undefined;
}

/** zod schema for either kind of name; the message says which rule failed. */
export function storeNameSchema(kind: NameKind): z.ZodType<string> {
  return z.string().superRefine((name, ctx) => {
    const problem = nameProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: `invalid ${kind} name "${printable(name)}": ${problem}` });
  });
}

const schemas: Record<NameKind, z.ZodType<string>> = {
  agent: storeNameSchema("agent"),
  version: storeNameSchema("version"),
};

export function assertStoreName(kind: NameKind, name: unknown, input = `--${kind}`): string {
  const parsed = schemas[kind].safeParse(name);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? `invalid ${kind} name`;
  throw new ForgeError("INVALID_NAME", message, {
    input,
    fix: `use 1-${MAX_NAME_LENGTH} letters, digits, '.', '_' or '-', starting with a letter or digit, without "..", and not ending in "${STAGING_SUFFIX}" (e.g. ${kind === "agent" ? "analyst" : "v20250101-120000"})`,
  });
}

export function isValidStoreName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/** JustNewsAgent's publish script names versions after the UTC time; we add seconds so two runs a minute apart differ. */
export function defaultVersionName(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2025-01-02T03:04:05.678Z
  return `v${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
