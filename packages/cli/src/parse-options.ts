import { ForgeError } from "@trtforge/core";

/** Parses a whole positive number given on the command line; "12abc", "1.5" and "" are refused. */
export function parseInteger(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text.trim())) {
    throw new ForgeError("INVALID_LIMIT", `${flag} must be a whole number, got "${text}"`, { input: flag, fix: `pass ${flag} <integer>` });
  }
  return Number(text);
}
