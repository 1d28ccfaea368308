import { stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { ForgeError, fsError } from "@trtforge/core";
import { BadRowLog, type ArticleFormat, type ArticleSet } from "./article-set.js";
import { datasetSha256 } from "./dataset-hash.js";
import { readAgNewsCsv } from "./read-agnews-csv.js";
import { readJsonl } from "./read-jsonl.js";
import { readTextDir, readTextFile } from "./read-text.js";

function formatOf(path: string, isDir: boolean): ArticleFormat {
  if (isDir) return "text-dir";
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".csv") return "agnews-csv";
  return "text-file";
}

/**
 * Reads every article of a source: a JSONL file (`text` field), an AG News CSV, a folder of .txt
 * and .jsonl files, or a single text file. Bad rows are counted and reported, never replaced; a
 * source with no usable article is an error.
 */
export async function readArticles(source: string): Promise<ArticleSet> {
  const path = resolve(source);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path, "reading articles");
  }
  const format = formatOf(path, isDir);
  const bad = new BadRowLog();
  const articles =
    format === "jsonl"
      ? await readJsonl(path, bad)
      : format === "agnews-csv"
        ? await readAgNewsCsv(path, bad)
        : format === "text-dir"
          ? await readTextDir(path, bad)
          : await readTextFile(path, bad);
  if (articles.length === 0) {
    const examples = bad.examples.map((b) => `${b.origin}: ${b.reason}`).join("; ");
    throw new ForgeError("DATASET_INVALID", `${path} holds no usable article (${bad.count} bad row(s)${examples ? `: ${examples}` : ""})`, {
      input: path,
      fix: 'give real article text: JSONL with a non-empty "text" field per line, an AG News CSV (label,title,description), a folder of .txt files or a text file',
    });
  }
  return { source: path, format, articles, sha256: await datasetSha256(path, isDir), badRows: bad.summary() };
}
