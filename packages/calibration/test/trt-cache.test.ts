import { describe, expect, it } from "vitest";
import {
  hexToScale,
  parseTrtCache,
  scaleToHex,
  trtCacheAlgorithmFor,
  trtVersionDigits,
  trtVersionOfDigits,
  writeTrtCache,
} from "../src/index.js";
import { thrown } from "../../../tests/support/errors.js";

describe("TensorRT version digits", () => {
  it("encodes 8.x as major·1000 + minor·100 + patch and 10.x on as major·10000 + minor·100 + patch", () => {
    expect(trtVersionDigits("8.6.1")).toBe("8601");
    expect(trtVersionDigits("8.5.3")).toBe("8503");
    expect(trtVersionDigits("10.16.0")).toBe("101600");
    expect(trtVersionDigits("10.0.1")).toBe("100001");
    expect(trtVersionDigits("11.1.0")).toBe("110100");
    expect(trtVersionDigits("10.3")).toBe("100300");
    // TensorRT's four-part versions (10.16.0.72) carry the build number, which the cache does not.
    expect(trtVersionDigits("10.16.0.72")).toBe("101600");
  });

  it("decodes the header digits back", () => {
    expect(trtVersionOfDigits("8601")).toBe("8.6.1");
    expect(trtVersionOfDigits("101600")).toBe("10.16.0");
    expect(trtVersionOfDigits("100001")).toBe("10.0.1");
    expect(trtVersionOfDigits("12345")).toBeUndefined();
    expect(trtVersionOfDigits("86")).toBeUndefined();
  });

  it("refuses versions the encodings cannot hold", () => {
    expect(thrown(() => trtVersionDigits("8.10.1")).code).toBe("INVALID_OPTION");
    expect(thrown(() => trtVersionDigits("ten")).code).toBe("INVALID_OPTION");
    expect(thrown(() => trtVersionDigits("10.100.0")).code).toBe("INVALID_OPTION");
    // The shape engine-format's parseTrtVersion accepts, no more: at most four components.
    expect(thrown(() => trtVersionDigits("10.16.0.72.1")).code).toBe("INVALID_OPTION");
  });
});

describe("scale hex", () => {
  it("is the big-endian IEEE-754 float32, lowercase", () => {
    // 1.0 = 0x3f800000; 0.5 = 0x3f000000; 127/127 → 1.0; 2.0 = 0x40000000; 1/127 ≈ 0x3c010204.
    expect(scaleToHex(1)).toBe("3f800000");
    expect(scaleToHex(0.5)).toBe("3f000000");
    expect(scaleToHex(2)).toBe("40000000");
    expect(scaleToHex(1 / 127)).toBe("3c010204");
    expect(scaleToHex(0.1)).toBe("3dcccccd");
    expect(hexToScale("3dcccccd")).toBe(Math.fround(0.1));
    expect(hexToScale("3DCCCCCD")).toBe(Math.fround(0.1));
  });
});

describe("writeTrtCache", () => {
  // Hand-computed: amax 127 → scale 1 (3f800000); amax 63.5 → 0.5 (3f000000); amax 12.7 → 0.1
  // (3dcccccd); amax 1 → 1/127 (3c010204).
  const scales = new Map([
    ["input_ids_embed", 127 / 127],
    ["/encoder/layer.0/attention/Softmax_output_0", 63.5 / 127],
    ["x:0", 12.7 / 127],
    ["val_85", 1 / 127],
  ]);
  const expected = [
    "TRT-101600-EntropyCalibration2",
    "input_ids_embed: 3f800000",
    "/encoder/layer.0/attention/Softmax_output_0: 3f000000",
    "x:0: 3dcccccd",
    "val_85: 3c010204",
    "",
  ].join("\n");

  it("writes TensorRT's text format byte for byte", () => {
    const text = writeTrtCache(scales, { trtVersion: "10.16.0", algorithm: "EntropyCalibration2" });
    expect(text).toBe(expected);
    expect(Buffer.from(text, "utf8")).toEqual(Buffer.from(expected, "ascii"));
  });

  it("labels TensorRT 8.6 caches and MinMax ones", () => {
    const text = writeTrtCache(new Map([["a", 1]]), { trtVersion: "8.6.1", algorithm: "MinMaxCalibration" });
    expect(text).toBe("TRT-8601-MinMaxCalibration\na: 3f800000\n");
  });

  it("parses back to the same scales and writes the same text again", () => {
    const parsed = parseTrtCache(expected, "cache");
    expect(parsed.trtVersion).toBe("10.16.0");
    expect(parsed.versionDigits).toBe("101600");
    expect(parsed.algorithm).toBe("EntropyCalibration2");
    expect([...parsed.scales.keys()]).toEqual([...scales.keys()]);
    for (const [name, scale] of scales) expect(parsed.scales.get(name)).toBe(Math.fround(scale));
    expect(writeTrtCache(parsed.scales, { trtVersion: parsed.trtVersion, algorithm: parsed.algorithm })).toBe(expected);
  });

  it("refuses scales TensorRT could not use and names it cannot write", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e-50]) {
      expect(thrown(() => writeTrtCache(new Map([["t", bad]]), { trtVersion: "10.16.0", algorithm: "EntropyCalibration2" })).code).toBe(
        "CALIBRATION_CACHE_INVALID",
      );
    }
    expect(thrown(() => writeTrtCache(new Map([["a\nb", 1]]), { trtVersion: "10.16.0", algorithm: "EntropyCalibration2" })).code).toBe(
      "CALIBRATION_CACHE_INVALID",
    );
  });

  it("labels every cache EntropyCalibration2, the calibrator class that serves it", () => {
    for (const algorithm of ["entropy", "percentile", "max", "mse"] as const)
      expect(trtCacheAlgorithmFor(algorithm)).toBe("EntropyCalibration2");
  });
});

describe("parseTrtCache", () => {
  it("accepts CRLF line ends, a missing final newline and every TensorRT algorithm", () => {
    for (const algorithm of ["EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration"]) {
      const parsed = parseTrtCache(`TRT-8601-${algorithm}\r\na: 3f800000\r\nb: 3c010204`);
      expect(parsed.algorithm).toBe(algorithm);
      expect(parsed.scales.size).toBe(2);
    }
  });

  it("accepts a cache with no tensor", () => {
    expect(parseTrtCache("TRT-101600-EntropyCalibration2\n").scales.size).toBe(0);
  });

  const cases: [string, string, RegExp][] = [
    ["empty file", "", /cache\.txt:1: not a TensorRT calibration cache header/],
    ["ORT's write_calibration_table text", "val_85 17.19\n", /cache\.txt:1: not a TensorRT calibration cache header/],
    [
      "unknown algorithm",
      "TRT-8601-PercentileCalibration\na: 3f800000\n",
      /cache\.txt:1: unknown calibration algorithm PercentileCalibration/,
    ],
    ["5 version digits", "TRT-10160-EntropyCalibration2\n", /cache\.txt:1: version digits 10160/],
    ["no colon", "TRT-8601-EntropyCalibration2\na: 3f800000\nb 3f800000\n", /cache\.txt:3: no `<tensor>: <scale>` pair: "b 3f800000"/],
    ["decimal value", "TRT-8601-EntropyCalibration2\na: 0.5\n", /cache\.txt:2: the scale is not 8 hex digits/],
    ["7 hex digits", "TRT-8601-EntropyCalibration2\na: 3f80000\n", /cache\.txt:2: the scale is not 8 hex digits/],
    ["blank line inside", "TRT-8601-EntropyCalibration2\na: 3f800000\n\nb: 3f800000\n", /cache\.txt:3: no `<tensor>: <scale>` pair/],
    ["zero scale", "TRT-8601-EntropyCalibration2\na: 00000000\n", /cache\.txt:2: scale 0 is not a positive finite number/],
    ["NaN scale", "TRT-8601-EntropyCalibration2\na: 7fc00000\n", /cache\.txt:2: scale NaN/],
    ["negative scale", "TRT-8601-EntropyCalibration2\na: bf800000\n", /cache\.txt:2: scale -1/],
    ["duplicate", "TRT-8601-EntropyCalibration2\na: 3f800000\na: 3f000000\n", /cache\.txt:3: tensor a is listed twice/],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what}, naming the line`, () => {
      const err = thrown(() => parseTrtCache(text, "cache.txt"));
      expect(err.code).toBe("CALIBRATION_CACHE_INVALID");
      expect(err.message).toMatch(message);
    });
  }

  it("takes the value after the last colon, so names may hold colons", () => {
    expect(parseTrtCache("TRT-8601-EntropyCalibration2\nscope:x:0: 3f800000\n").scales.get("scope:x:0")).toBe(1);
  });
});
