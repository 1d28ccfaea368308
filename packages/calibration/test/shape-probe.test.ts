import { compareModels } from "@trtforge/accuracy";
import { insertQdq, serializeOnnxModel } from "@trtforge/onnx-graph";
import { describe, expect, it } from "vitest";
import { calibrate, ShapeProbe } from "../src/index.js";
import { loadMiniLm } from "./minilm-onnx.js";

describe("ShapeProbe on MiniLM", () => {
  it("gives compareModels' cosine_mean at the shape, per output, the lowest of them", async () => {
    const { onnxPath, model, tokenizer, articles } = await loadMiniLm();
    const calibrated = await calibrate({
      onnxPath,
      tokenizer,
      articles,
      samples: 8,
      batchSize: 8,
      seqLen: 64,
      algorithm: "max",
      tensors: "quantization-sites",
      trtVersion: "10.16.0",
    });
    const candidate = serializeOnnxModel(insertQdq(model, { activationScales: calibrated.scales }).model);
    const texts = articles.articles.slice(600, 604).map((a) => a.text);
    const shape = { name: "probe", batch: 3, seqLen: 96 };
    const figures = await compareModels({
      reference: onnxPath,
      candidate,
      referenceLabel: "fp32",
      candidateLabel: "int8",
      tokenizer,
      texts,
      outputs: ["last_hidden_state", "sentence_embedding"],
      shapes: [shape],
      seqLen: 96,
    });
    const atShape = figures.filter((f) => f.shape !== undefined);
    expect(atShape).toHaveLength(2);
    for (const output of ["last_hidden_state", "sentence_embedding"]) {
      const probe = await ShapeProbe.create({ reference: model, onnxPath, tokenizer, texts, outputs: [output], shapes: [shape] });
      const expected = atShape.find((f) => f.output === output)!.cosine_mean;
      expect(expected).toBeLessThan(1);
      expect(await probe.cosine(candidate)).toBeCloseTo(expected, 6);
    }
    const both = await ShapeProbe.create({
      reference: model,
      onnxPath,
      tokenizer,
      texts,
      outputs: ["last_hidden_state", "sentence_embedding"],
      shapes: [shape],
    });
    expect(await both.cosine(candidate)).toBeCloseTo(Math.min(...atShape.map((f) => f.cosine_mean)), 6);
    // Several shapes: the lowest of them (a one-token row is its own case).
    const oneToken = { name: "one", batch: 1, seqLen: 1 };
    const alone = await ShapeProbe.create({
      reference: model,
      onnxPath,
      tokenizer,
      texts,
      outputs: ["sentence_embedding"],
      shapes: [oneToken],
    });
    const withLong = await ShapeProbe.create({
      reference: model,
      onnxPath,
      tokenizer,
      texts,
      outputs: ["sentence_embedding"],
      shapes: [shape, oneToken],
    });
    const atLong = atShape.find((f) => f.output === "sentence_embedding")!.cosine_mean;
    expect(await withLong.cosine(candidate)).toBeCloseTo(Math.min(atLong, await alone.cosine(candidate)), 6);
    // The reference against itself: nothing lost.
    expect(await both.cosine(serializeOnnxModel(model))).toBeCloseTo(1, 6);
  }, 600_000);
});
