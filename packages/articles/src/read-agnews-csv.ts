import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { fsError } from "@trtforge/core";
import { BadRowLog, type Article } from "./article-set.js";

/**
 * The AG News layout: `"label","title","description"` with a numeric label; a header line is skipped. The dataset escapes a dollar
 * sign as `\$` and writes every other newline of the original text as a lone backslash; both are
 * restored so that tokenizers see the real text.
 */
export function agNewsText(title: string, description: string): string {
  const restore = (s: string) => s.replace(/\\\$/g, "$").replace(/\\/g, "\n");
  return `${restore(title.trim())}. ${restore(description.trim())}`;
}

export async function readAgNewsCsv(path: string, bad: BadRowLog): Promise<Article[]> {
  const articles: Article[] = [];
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, bom: true, skip_records_with_error: true, info: true });
  // Malformed records (an unclosed quote, ...) are skipped and counted, not fatal.
  parser.on("skip", (err: Error & { lines?: number }) => bad.add(`${path}:${err.lines ?? "?"}`, `CSV error: ${err.message}`));
  const input = createReadStream(path);
  const failure = new Promise<never>((_, reject) => input.once("error", (err) => reject(fsError(err, path, "reading articles"))));
  const records = (async () => {
    // With `info`, each record carries its own line number; parser.info is already further ahead.
    for await (const { record, info } of input.pipe(parser) as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const origin = `${path}:${info.lines}`;
      if (record.length !== 3) {
        bad.add(origin, `expected 3 columns (label, title, description), found ${record.length}`);
        continue;
      }
      const [label = "", title = "", description = ""] = record;
      if (!/^\s*\d+\s*$/.test(label)) {
        // A header line ("label,title,description") is not an article; any other non-numeric label is a bad row.
        if (info.lines !== 1) bad.add(origin, `the label "${label.slice(0, 20)}" is not a class number`);
        continue;
      }
      if (title.trim() === "" && description.trim() === "") {
        bad.add(origin, "empty title and description");
        continue;
      }
      articles.push({ text: agNewsText(title, description), origin });
    }
  })();
  await Promise.race([records, failure]);
  return articles;
}
