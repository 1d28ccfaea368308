/** One text to tokenize, with where it came from (for bad-row reports and reproducibility). */
export interface Article {
  text: string;
  /** "file:line" or "file" for whole-file articles. */
  origin: string;
}

export interface BadRow {
  origin: string;
  reason: string;
}

export type ArticleFormat = "jsonl" | "agnews-csv" | "text-dir" | "text-file";

export interface ArticleSet {
  source: string;
  format: ArticleFormat;
  articles: Article[];
  /** sha256 of the source's bytes (for a folder: over sorted relative paths and bytes). */
  sha256: string;
  badRows: { count: number; examples: BadRow[] };
}

export const MAX_BAD_ROW_EXAMPLES = 5;

/** Collects bad rows: counts all of them, keeps the first few as examples for the message. */
export class BadRowLog {
  count = 0;
  readonly examples: BadRow[] = [];

  add(origin: string, reason: string): void {
    this.count++;
    if (this.examples.length < MAX_BAD_ROW_EXAMPLES) this.examples.push({ origin, reason });
  }

  summary(): ArticleSet["badRows"] {
    return { count: this.count, examples: [...this.examples] };
  }
}
