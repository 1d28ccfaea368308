import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fsError } from "@trtforge/core";
import { BadRowLog, type Article } from "./article-set.js";
import { readJsonl } from "./read-jsonl.js";

/** NUL bytes or bytes that are not UTF-8: an executable or an archive given by mistake, never an article. */
export function looksBinary(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/** A single text file is one article (JustNewsAgent's single-file calibration form). */
export async function readTextFile(path: string, bad: BadRowLog): Promise<Article[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(err, path, "reading articles");
  }
  if (looksBinary(bytes)) {
    bad.add(path, "binary file (NUL bytes or invalid UTF-8), not text");
    return [];
  }
  const text = bytes.toString("utf8");
  if (text.trim() === "") {
    bad.add(path, "empty file");
    return [];
  }
  return [{ text, origin: path }];
}

/** A folder: each .txt file is one article, each .jsonl file holds many; files in name order. */
export async function readTextDir(dir: string, bad: BadRowLog): Promise<Article[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw fsError(err, dir, "reading articles");
  }
  const articles: Article[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith(".txt")) articles.push(...(await readTextFile(path, bad)));
    else if (name.endsWith(".jsonl")) articles.push(...(await readJsonl(path, bad)));
    else if (!name.startsWith(".")) bad.add(path, "not a .txt or .jsonl file");
  }
  return articles;
}
