import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { fsError } from "@trtforge/core";
import { BadRowLog, type Article } from "./article-set.js";

/** JustNewsAgent's calibration form: one JSON object per line with a non-empty string `text`. */
export async function readJsonl(path: string, bad: BadRowLog, field = "text"): Promise<Article[]> {
  const articles: Article[] = [];
  let line = 0;
  try {
    const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
    for await (const raw of lines) {
      line++;
      if (raw.trim() === "") continue;
      let row: unknown;
      try {
        row = JSON.parse(raw);
      } catch {
        bad.add(`${path}:${line}`, "not JSON");
        continue;
      }
      const text = typeof row === "object" && row !== null ? (row as Record<string, unknown>)[field] : undefined;
      if (typeof text !== "string") bad.add(`${path}:${line}`, `no string "${field}" field`);
      else if (text.trim() === "") bad.add(`${path}:${line}`, `empty "${field}"`);
      else articles.push({ text, origin: `${path}:${line}` });
    }
  } catch (err) {
    throw fsError(err, path, "reading articles");
  }
  return articles;
}
