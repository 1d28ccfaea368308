import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module shared with scripts/gen-docs.mjs
import { generatedDocs } from "./generated-docs.mjs";

const root = join(import.meta.dirname, "..");

describe("documents generated from code", () => {
  it("are committed exactly as scripts/gen-docs.mjs writes them", async () => {
    const docs = (await generatedDocs()) as Record<string, string>;
    expect(Object.keys(docs).length).toBeGreaterThanOrEqual(4);
    for (const [path, expected] of Object.entries(docs)) {
      const committed = await readFile(join(root, path), "utf8").catch(() => "(missing)");
      expect(committed, `${path} is stale: run node scripts/gen-docs.mjs`).toBe(expected);
    }
  });

  it("publish the metadata schema with the plan's fields required", async () => {
    const schema = JSON.parse(await readFile(join(root, "docs/schemas/engine-metadata.v1.schema.json"), "utf8")) as { required: string[] };
    expect(schema.required).toEqual(
      expect.arrayContaining([
        "model_name",
        "hf_revision",
        "trt_version",
        "precision",
        "build_options",
        "max_batch_size",
        "seq_len",
        "checksum",
        "created_at",
        "kind",
        "schema_version",
      ]),
    );
  });
});
