// What the benchmarks share: the repository root, the default model, ONNX and articles (as
// parseArgs options), and loading the articles and tokenizer they name.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** parseArgs options --onnx (the calibration tests' export of MiniLM), --model and --articles. */
export const inputOptions = {
  onnx: { type: "string", default: join(root, ".tools/models/all-MiniLM-L6-v2.onnx-fp32/model.onnx") },
  model: { type: "string", default: join(root, ".tools/models/all-MiniLM-L6-v2") },
  articles: { type: "string", default: join(root, "data/ag_news/test.csv") },
};

/** The articles and the model's tokenizer named by --articles and --model (packages must be built). */
export async function loadArticlesAndTokenizer(values) {
  const { readArticles } = await import("@trtforge/articles");
  const { loadTokenizer } = await import("@trtforge/tokenizer");
  const [articles, tokenizer] = await Promise.all([readArticles(values.articles), loadTokenizer(values.model)]);
  return { articles, tokenizer };
}
