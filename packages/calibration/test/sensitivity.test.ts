import { quantizationSites } from "@trtforge/onnx-graph";
import { describe, expect, it } from "vitest";
import { calibrate, chooseFloatSites, measureSensitivity, type SiteSensitivity } from "../src/index.js";
import { loadMiniLm } from "./minilm-onnx.js";

const site = (node: string, loss: number): SiteSensitivity => ({ node, loss, cosine: 1 - loss });

describe("chooseFloatSites", () => {
  it("keeps the most sensitive sites in float, at most the share allowed", () => {
    const ranked = [site("a", 0.001), site("b", 0.006), site("c", 0.0036), site("d", 0.00001), site("e", 0.003)];
    // 48 MatMuls, 10%: 4 may stay in float.
    expect(chooseFloatSites(ranked, 48)).toEqual(["b", "c", "e", "a"]);
    expect(chooseFloatSites(ranked, 20)).toEqual(["b", "c"]);
    expect(chooseFloatSites(ranked, 48, 0.1, 0.002)).toEqual(["b", "c", "e"]);
    expect(chooseFloatSites(ranked, 9)).toEqual([]);
    expect(() => chooseFloatSites(ranked, 48, 1.5)).toThrow(/float share/);
  });
});

describe("measureSensitivity on MiniLM", () => {
  it("measures each site alone at the shape and ranks the GELU-fed FFN2 above a Q projection", async () => {
    const { onnxPath, model, tokenizer, articles } = await loadMiniLm();
    const calibrated = await calibrate({
      onnxPath,
      tokenizer,
      articles,
      samples: 8,
      batchSize: 8,
      lengths: [128],
      algorithm: "max",
      tensors: "quantization-sites",
      trtVersion: "10.16.0",
    });
    const sites = quantizationSites(model);
    const ffn2 = sites.find((s) => s.activations[0]!.tensor === "gelu")!.nodeName;
    const query = sites.find((s) => s.activations[0]!.tensor === "layer_norm")!.nodeName;
    const ranked = await measureSensitivity({
      model,
      scales: calibrated.scales,
      tokenizer,
      texts: articles.articles.slice(600, 616).map((a) => a.text),
      outputs: ["sentence_embedding"],
      shape: { name: "probe", batch: 4, seqLen: 128 },
      nodes: [query, ffn2],
    });
    expect(ranked.map((r) => r.node)).toEqual([ffn2, query]);
    for (const r of ranked) {
      expect(r.cosine).toBeLessThan(1);
      expect(r.loss).toBeCloseTo(1 - r.cosine, 12);
    }
  }, 600_000);
});
