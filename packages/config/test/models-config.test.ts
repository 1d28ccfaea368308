import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadModelsConfig, modelsConfigJsonSchema } from "../src/index.js";
import { expectForgeError, lineOf, makeTempDir, removeTempDir, replaceOnce, writeText } from "./helpers.js";

const VALID_MODELS = `version: 1
defaults:
  trt_version: "10.16.0"
  precisions: [fp16]
  min_seq_len: 1
  opt_seq_len: 128
models:
  - task: sentiment
    model_id: cardiffnlp/twitter-roberta-base-sentiment-latest
    revision: 4ba3d4463bd152c9e4abd892b50844f30c646708
    hf_task: sequence-classification
    agent: analyst
    max_batch_size: 100
    opt_batch_size: 50
    seq_len: 512
    inputs: [input_ids, attention_mask]
    outputs:
      - { name: logits, dims: [batch, 3] }
    precisions: [fp16, int8]
  - task: embeddings
    model_id: sentence-transformers/all-MiniLM-L6-v2
    revision: c9745ed1d9f207416be6d2e6f8de32d1f16199bf
    hf_task: feature-extraction
    agent: memory
    max_batch_size: 127
    seq_len: 256
    trt_version: "10.13.3.9"
    inputs: [input_ids, attention_mask, token_type_ids]
    outputs:
      - { name: last_hidden_state, dims: [batch, seq, 384] }
`;

let dir: string | undefined;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
  dir = undefined;
});

/** Writes VALID_MODELS with one edit; returns the file and the text written. */
async function modelsFileWith(search: string, replacement: string): Promise<{ path: string; text: string }> {
  const text = replaceOnce(VALID_MODELS, search, replacement);
  return { path: await writeText(dir!, "models.yaml", text), text };
}

describe("loadModelsConfig on a valid file", () => {
  it("merges defaults into every model and returns camelCase specs", async () => {
    const path = await writeText(dir!, "models.yaml", VALID_MODELS);
    const config = await loadModelsConfig(path);
    expect(config.path).toBe(path);
    expect(config.models.map((m) => m.taskName)).toEqual(["sentiment", "embeddings"]);
    const [sentiment, embeddings] = config.models;
    expect(sentiment).toEqual({
      taskName: "sentiment",
      modelId: "cardiffnlp/twitter-roberta-base-sentiment-latest",
      revision: "4ba3d4463bd152c9e4abd892b50844f30c646708",
      hfTask: "sequence-classification",
      agent: "analyst",
      maxBatchSize: 100,
      optBatchSize: 50,
      minSeqLen: 1,
      optSeqLen: 128,
      seqLen: 512,
      inputs: ["input_ids", "attention_mask"],
      outputs: [{ name: "logits", dims: ["batch", 3] }],
      precisions: ["fp16", "int8"],
      trtVersion: "10.16.0",
    });
    // opt_batch_size defaults to half of max_batch_size rounded up; the model's trt_version wins.
    expect(embeddings?.optBatchSize).toBe(64);
    expect(embeddings?.precisions).toEqual(["fp16"]);
    expect(embeddings?.trtVersion).toBe("10.13.3.9");
  });

  it("describes the format as a JSON Schema that rejects unknown keys", () => {
    const schema = modelsConfigJsonSchema() as {
      additionalProperties: boolean;
      required: string[];
      properties: { models: { items: { properties: Record<string, { maximum?: number }> } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["version", "models"]);
    expect(schema.properties.models.items.properties.max_batch_size?.maximum).toBe(4096);
  });
});

describe("loadModelsConfig limits", () => {
  const cases = [
    { name: "batch 0", search: "max_batch_size: 100", replacement: "max_batch_size: 0" },
    { name: "negative batch", search: "max_batch_size: 100", replacement: "max_batch_size: -4" },
    { name: "batch 100000", search: "max_batch_size: 100", replacement: "max_batch_size: 100000" },
    { name: "non-integer batch", search: "max_batch_size: 100", replacement: "max_batch_size: 2.5" },
  ];
  for (const { name, search, replacement } of cases) {
    it(`rejects ${name} with INVALID_LIMIT and the allowed range`, async () => {
      const { path, text } = await modelsFileWith(search, replacement);
      const error = await expectForgeError(loadModelsConfig(path), {
        code: "INVALID_LIMIT",
        exitCode: 11,
        file: path,
        line: lineOf(text, replacement),
        keyPath: "models[0].max_batch_size",
      });
      expect(error.message).toContain(`is ${replacement.split(": ")[1]}`);
      expect(error.message).toContain("from 1 to 4096");
      expect(error.fix).toBeDefined();
    });
  }

  it("rejects seq_len 0 with INVALID_LIMIT", async () => {
    const { path, text } = await modelsFileWith("seq_len: 256", "seq_len: 0");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "INVALID_LIMIT",
      exitCode: 11,
      file: path,
      line: lineOf(text, "seq_len: 0"),
      keyPath: "models[1].seq_len",
    });
    expect(error.message).toContain("from 1 to 8192");
  });

  it("rejects opt_batch_size above max_batch_size, naming both values", async () => {
    const { path, text } = await modelsFileWith("opt_batch_size: 50", "opt_batch_size: 101");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "INVALID_LIMIT",
      exitCode: 11,
      file: path,
      line: lineOf(text, "opt_batch_size: 101"),
      keyPath: "models[0].opt_batch_size",
    });
    expect(error.message).toContain("is 101, above max_batch_size 100");
    expect(error.fix).toContain("lower models[0].opt_batch_size to at most 100");
  });

  it("rejects a seq_len below the opt_seq_len it inherits from defaults", async () => {
    const { path, text } = await modelsFileWith("seq_len: 256", "seq_len: 64");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "INVALID_LIMIT",
      exitCode: 11,
      file: path,
      line: lineOf(text, "seq_len: 64"),
      keyPath: "models[1].seq_len",
    });
    expect(error.message).toContain("below opt_seq_len 128 (from defaults.opt_seq_len)");
  });
});

describe("loadModelsConfig names and values", () => {
  it("rejects an unknown precision with INVALID_PRECISION", async () => {
    const { path, text } = await modelsFileWith("precisions: [fp16, int8]", "precisions: [fp16, fp64]");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "INVALID_PRECISION",
      exitCode: 10,
      file: path,
      line: lineOf(text, "fp64"),
      keyPath: "models[0].precisions[1]",
    });
    expect(error.message).toContain('"fp64"');
    expect(error.message).toContain("one of fp32, fp16, int8");
  });

  const badNames = [
    { name: 'task "../evil"', search: "task: sentiment", replacement: "task: ../evil", keyPath: "models[0].task" },
    { name: 'task "a/b"', search: "task: sentiment", replacement: "task: a/b", keyPath: "models[0].task" },
    {
      name: "a model id holding ..",
      search: "model_id: sentence-transformers/all-MiniLM-L6-v2",
      replacement: "model_id: sentence-transformers/all..MiniLM",
      keyPath: "models[1].model_id",
    },
    { name: 'agent "a..b"', search: "agent: memory", replacement: "agent: a..b", keyPath: "models[1].agent" },
  ];
  for (const { name, search, replacement, keyPath } of badNames) {
    it(`rejects ${name} with INVALID_NAME`, async () => {
      const { path, text } = await modelsFileWith(search, replacement);
      const error = await expectForgeError(loadModelsConfig(path), {
        code: "INVALID_NAME",
        exitCode: 12,
        file: path,
        line: lineOf(text, replacement),
        keyPath,
      });
      expect(error.message).toContain(JSON.stringify(replacement.split(": ")[1]));
      expect(error.message).toMatch(/; allowed: .+$/);
      expect(error.fix).toMatch(/.+/);
    });
  }

  it("rejects a repeated task name, naming both lines", async () => {
    const { path, text } = await modelsFileWith("task: embeddings", "task: sentiment");
    const lines = text.split("\n").flatMap((line, index) => (line.includes("task: sentiment") ? [index + 1] : []));
    expect(lines).toHaveLength(2);
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lines[1],
      keyPath: "models[1].task",
    });
    expect(error.message).toContain(`models[0] at line ${lines[0]}`);
  });

  it("rejects an unknown top-level key and suggests the intended one", async () => {
    const { path, text } = await modelsFileWith("version: 1\n", "version: 1\nmodel: []\n");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "model: []"),
      keyPath: "model",
    });
    expect(error.message).toContain("is not a known key");
    expect(error.fix).toContain('"models"');
  });

  it("rejects a misspelt model key rather than reporting the real key as missing", async () => {
    const { path, text } = await modelsFileWith("max_batch_size: 127", "max_batch: 127");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "max_batch: 127"),
      keyPath: "models[1].max_batch",
    });
    expect(error.fix).toContain('"max_batch_size"');
    expect(error.details?.problems).toEqual(expect.arrayContaining([expect.stringContaining("models[1].max_batch_size is missing")]));
  });

  it("rejects a model without trt_version when defaults have none", async () => {
    const { path, text } = await modelsFileWith('  trt_version: "10.16.0"\n', "");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "task: sentiment"),
      keyPath: "models[0].trt_version",
    });
    expect(error.message).toContain("defaults.trt_version is not set");
  });

  it("tells to quote a trt_version that YAML read as a number", async () => {
    const { path, text } = await modelsFileWith('trt_version: "10.16.0"', "trt_version: 10.16");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "trt_version: 10.16"),
      keyPath: "defaults.trt_version",
    });
    expect(error.fix).toContain('"10.16"');
  });

  it("rejects inputs without input_ids", async () => {
    const { path, text } = await modelsFileWith("inputs: [input_ids, attention_mask]", "inputs: [attention_mask]");
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "inputs: [attention_mask]"),
      keyPath: "models[0].inputs",
    });
    expect(error.fix).toBe("add input_ids to the list");
  });
});
