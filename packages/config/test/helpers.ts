import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ForgeError, type ErrorCode } from "@trtforge/core";
import { expect } from "vitest";

/** A fresh folder per test, removed by `cleanup`. */
export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "trtforge-config-test-"));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export async function writeText(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, "utf8");
  return path;
}

/** `text` with `search` replaced; fails the test when `search` is not there exactly once. */
export function replaceOnce(text: string, search: string, replacement: string): string {
  const first = text.indexOf(search);
  if (first < 0 || text.indexOf(search, first + 1) >= 0) throw new Error(`fixture: "${search}" must occur exactly once`);
  return text.slice(0, first) + replacement + text.slice(first + search.length);
}

/** The 1-based line of the only line containing `fragment`. */
export function lineOf(text: string, fragment: string): number {
  const lines = text.split("\n");
  const matches = lines.flatMap((line, index) => (line.includes(fragment) ? [index + 1] : []));
  if (matches.length !== 1) throw new Error(`fixture: "${fragment}" must be on exactly one line, found ${matches.length}`);
  return matches[0]!;
}

export interface ExpectedError {
  code: ErrorCode;
  exitCode: number;
  file: string;
  /** The line the message must point at; omitted for errors that have no line (filesystem). */
  line?: number;
  keyPath?: string;
}

/** Awaits `action`, requires a ForgeError shaped as `expected`, and returns it for more checks. */
export async function expectForgeError(action: Promise<unknown>, expected: ExpectedError): Promise<ForgeError> {
  const error = await action.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ForgeError);
  const forgeError = error as ForgeError;
  expect(forgeError.code).toBe(expected.code);
  expect(forgeError.exitCode).toBe(expected.exitCode);
  expect(forgeError.message).toContain(expected.file);
  if (expected.line !== undefined) {
    expect(forgeError.message).toMatch(new RegExp(`^${escapeRegExp(expected.file)}:${expected.line}:\\d+: `));
  }
  if (expected.keyPath !== undefined) expect(forgeError.message).toContain(expected.keyPath);
  return forgeError;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
