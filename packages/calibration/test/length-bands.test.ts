import { readArticles, type ArticleSet } from "@trtforge/articles";
import { loadTokenizer, type ModelTokenizer } from "@trtforge/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import {
  calibrate,
  calibrationLengths,
  checkLengths,
  CalibrationRecordSchema,
  longOnlyRanges,
  rowsPerBand,
  type LengthBand,
} from "../src/index.js";
import { AG_NEWS_CSV, minilmDir, minilmOnnx } from "./minilm-onnx.js";
import { rejection } from "../../../tests/support/errors.js";

describe("length bands", () => {
  it("shares rows out over the bands, the remainder to the longest", () => {
    expect(rowsPerBand(64, 2)).toEqual([32, 32]);
    expect(rowsPerBand(10, 3)).toEqual([3, 3, 4]);
    expect(rowsPerBand(11, 3)).toEqual([3, 4, 4]);
  });

  it("sorts lengths and refuses ones the model cannot take, naming them", async () => {
    expect(checkLengths([256, 64, 128, 64], 512, "m")).toEqual([64, 128, 256]);
    const tooLong = await rejection((async () => checkLengths([128, 600], 512, "m"))());
    expect(tooLong).toMatchObject({ code: "INVALID_LIMIT" });
    expect(tooLong.message).toContain("600");
    expect(await rejection((async () => checkLengths([0], undefined, "m"))())).toMatchObject({ code: "INVALID_LIMIT" });
    expect(await rejection((async () => checkLengths([], undefined, "m"))())).toMatchObject({ code: "INVALID_LIMIT" });
  });

  it("calibrates a profile at its lengths, the shortest raised to 32, with the midpoint of the two longest", () => {
    expect(calibrationLengths([1, 128, 256])).toEqual([32, 128, 192, 256]);
    expect(calibrationLengths([64, 64, 64])).toEqual([64]);
    expect(calibrationLengths([8, 16])).toEqual([16]);
  });

  it("calls out a range that only the longest band reaches", () => {
    const bands: LengthBand[] = [
      { seq_len: 64, rows: 8, amax: { a: 1, b: 4, c: 2 } },
      { seq_len: 128, rows: 8, amax: { a: 1.05, b: 3, c: 2.5 } },
      { seq_len: 256, rows: 8, amax: { a: 1.04, b: 4.2, c: 5 } },
    ];
    // c doubles at 256 tokens against the widest shorter band (2.5); a and b stay within 10%.
    expect(longOnlyRanges(bands)).toEqual([{ tensor: "c", longest: 5, shorter: 2.5, factor: 2 }]);
    expect(longOnlyRanges(bands.slice(0, 1))).toEqual([]);
  });
});

describe("calibrating MiniLM at several lengths", () => {
  let tokenizer: ModelTokenizer;
  let articles: ArticleSet;
  beforeAll(async () => {
    [tokenizer, articles] = await Promise.all([loadTokenizer(minilmDir()), readArticles(AG_NEWS_CSV)]);
  }, 300_000);

  it("runs full rows at every length and reports each band's ranges", async () => {
    const result = await calibrate({
      onnxPath: minilmOnnx(),
      tokenizer,
      articles,
      samples: 16,
      batchSize: 8,
      lengths: [160, 32],
      algorithm: "max",
      tensors: "quantization-sites",
      trtVersion: "10.16.0",
    });
    expect(result.lengthBands.map((b) => [b.seq_len, b.rows])).toEqual([
      [32, 8],
      [160, 8],
    ]);
    const record = CalibrationRecordSchema.parse(JSON.parse(JSON.stringify(result.record)));
    expect(record.lengths).toEqual([32, 160]);
    expect(record.seq_len).toBe(160);
    expect(record.length_bands).toEqual(result.lengthBands);
    // Max calibration: every scale is the widest band's range of its source, over all lengths.
    const layerNorm = result.lengthBands.map((b) => b.amax["layer_norm"]!);
    expect(Math.min(...layerNorm)).toBeGreaterThan(0);
    expect(result.amax.get("layer_norm")).toBeCloseTo(Math.max(...layerNorm), 4);
    // Each band is measured on its own rows: some tensor's range differs between 32 and 160 tokens.
    const [short, long] = result.lengthBands;
    expect(Object.keys(short!.amax).some((t) => short!.amax[t] !== long!.amax[t])).toBe(true);
  }, 300_000);
});
