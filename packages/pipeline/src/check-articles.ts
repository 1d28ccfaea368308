import { ForgeError, type Logger } from "@trtforge/core";
import { readArticles, type ArticleSet } from "@trtforge/articles";
import type { BuildRequest } from "./build-request.js";

/** What the record says about the articles a build calibrated and measured on. */
export interface ArticlesRecord {
  source: string;
  format: ArticleSet["format"];
  sha256: string;
  usable: number;
  bad_rows: ArticleSet["badRows"];
}

function badRowList(set: ArticleSet): string {
  return set.badRows.examples.map((b) => `${b.origin} (${b.reason})`).join("; ");
}

/**
 * Reads the articles and checks them against the request before export: enough usable articles
 * for calibration plus held-out measurement, and malformed rows reported (or, with
 * --strict-articles, fatal) rather than dropped silently.
 */
export async function readCheckedArticles(request: BuildRequest, logger: Logger): Promise<{ set: ArticleSet; record: ArticlesRecord }> {
  const c = request.calibration;
  const set = await readArticles(c.articles);
  const bad = set.badRows;
  if (bad.count > 0) {
    if (c.strictArticles) {
      throw new ForgeError(
        "DATASET_INVALID",
        `${set.source} has ${bad.count} malformed row(s) beside ${set.articles.length} usable article(s), first: ${badRowList(set)}`,
        {
          input: set.source,
          fix: "repair or remove those rows, or drop --strict-articles to skip them (they are counted in the record)",
        },
      );
    }
    logger.warn(
      { source: set.source, bad_rows: bad.count, first: bad.examples.map((b) => b.origin) },
      `${bad.count} malformed article row(s) skipped (first: ${badRowList(set)})`,
    );
  }
  const precision = request.build.precision;
  if (precision !== "fp32") {
    const sampled = precision === "int8" ? c.samples : 1;
    const needed = sampled + c.heldOut;
    if (set.articles.length < needed) {
      const what =
        precision === "int8"
          ? `${c.samples} to calibrate on (--calibration-samples) + ${c.heldOut} held out (--held-out)`
          : `1 + ${c.heldOut} held out (--held-out)`;
      throw new ForgeError(
        "DATASET_INVALID",
        `${set.source} has ${set.articles.length} usable article(s) (${bad.count} malformed row(s)); ${precision} needs ${needed}: ${what}`,
        {
          input: set.source,
          fix: `give more articles (--calibrate) or ask for fewer (--calibration-samples, --held-out; together at most ${set.articles.length})`,
        },
      );
    }
  }
  return { set, record: { source: set.source, format: set.format, sha256: set.sha256, usable: set.articles.length, bad_rows: bad } };
}
