import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deviceMapJsonSchema, loadDeviceMap } from "../src/index.js";
import { expectForgeError, lineOf, makeTempDir, removeTempDir, replaceOnce, writeText } from "./helpers.js";

const BIAS_FP16 = "bias.unitary--toxic-bert-4d6c22e74ba2-trt-10.16.0-fp16.engine";
const BIAS_INT8 = "bias.unitary--toxic-bert-4d6c22e74ba2-trt-10.16.0-int8.engine";
const EMBEDDINGS_FP16 = "embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.16.0-fp16.engine";
const KNOWN_ENGINES = [BIAS_FP16, BIAS_INT8, EMBEDDINGS_FP16];

const VALID_MAP = `version: 1
default_device: 1
engines:
  ${BIAS_FP16}: 0
  ${EMBEDDINGS_FP16}: 1
`;

let dir: string | undefined;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
  dir = undefined;
});

async function mapFileWith(search: string, replacement: string): Promise<{ path: string; text: string }> {
  const text = replaceOnce(VALID_MAP, search, replacement);
  return { path: await writeText(dir!, "engine_device_map.yaml", text), text };
}

describe("loadDeviceMap on a valid file", () => {
  it("maps listed engines to their GPU and others to the default device", async () => {
    const path = await writeText(dir!, "engine_device_map.yaml", VALID_MAP);
    const map = await loadDeviceMap(path, { knownEngines: KNOWN_ENGINES, gpuCount: 2 });
    expect(map.path).toBe(path);
    expect(map.defaultDevice).toBe(1);
    expect([...map.devices]).toEqual([
      [BIAS_FP16, [0]],
      [EMBEDDINGS_FP16, [1]],
    ]);
    expect(map.devicesFor(BIAS_FP16)).toEqual([0]);
    expect(map.devicesFor(BIAS_INT8)).toEqual([1]);
  });

  it("serves an engine on every GPU of a list, and refuses a repeated, missing or empty list, pointing at the line", async () => {
    const listed = await mapFileWith(`${EMBEDDINGS_FP16}: 1`, `${EMBEDDINGS_FP16}: [0, 1]`);
    const map = await loadDeviceMap(listed.path, { knownEngines: KNOWN_ENGINES, gpuCount: 2 });
    expect(map.devicesFor(EMBEDDINGS_FP16)).toEqual([0, 1]);
    for (const [list, message] of [
      ["[1, 1]", "names GPU 1 twice"],
      ["[0, 2]", "is 2"],
      ["[]", ""],
    ] as const) {
      const file = await mapFileWith(`${EMBEDDINGS_FP16}: 1`, `${EMBEDDINGS_FP16}: ${list}`);
      const error = await expectForgeError(loadDeviceMap(file.path, { gpuCount: 2 }), {
        code: "INVALID_DEVICE_ID",
        exitCode: 35,
        file: file.path,
        line: lineOf(file.text, EMBEDDINGS_FP16),
      });
      expect(error.message).toContain(message);
    }
  });

  it("has no device for unlisted engines without default_device, and accepts an empty engines key", async () => {
    const path = await writeText(dir!, "engine_device_map.yaml", "version: 1\nengines:\n");
    const map = await loadDeviceMap(path);
    expect(map.defaultDevice).toBeUndefined();
    expect(map.devices.size).toBe(0);
    expect(map.devicesFor(BIAS_FP16)).toEqual([]);
  });

  it("describes the format as a JSON Schema", () => {
    const schema = deviceMapJsonSchema() as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(["version", "engines"]);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("loadDeviceMap errors", () => {
  const badDevices = [
    { name: "-1", value: "-1", options: {} },
    { name: '"gpu0"', value: "gpu0", options: {} },
    { name: "2 on a host with 2 GPUs", value: "2", options: { gpuCount: 2 } },
  ];
  for (const { name, value, options } of badDevices) {
    it(`rejects device id ${name} with INVALID_DEVICE_ID`, async () => {
      const { path, text } = await mapFileWith(`${EMBEDDINGS_FP16}: 1`, `${EMBEDDINGS_FP16}: ${value}`);
      const error = await expectForgeError(loadDeviceMap(path, options), {
        code: "INVALID_DEVICE_ID",
        exitCode: 35,
        file: path,
        line: lineOf(text, EMBEDDINGS_FP16),
        keyPath: `engines["${EMBEDDINGS_FP16}"]`,
      });
      expect(error.message).toContain(`is ${value === "gpu0" ? '"gpu0"' : value}`);
      expect(error.fix).toMatch(/\S/);
    });
  }

  it("names the GPU range when a device id is beyond the host's GPUs", async () => {
    const { path, text } = await mapFileWith("default_device: 1", "default_device: 4");
    const error = await expectForgeError(loadDeviceMap(path, { gpuCount: 2 }), {
      code: "INVALID_DEVICE_ID",
      exitCode: 35,
      file: path,
      line: lineOf(text, "default_device: 4"),
      keyPath: "default_device",
    });
    expect(error.message).toContain("from 0 to 1 (this host has 2 GPUs)");
  });

  it("rejects a key that is not an engine name with INVALID_ENGINE_NAME", async () => {
    const badName = "bias/unitary-fp16.engine";
    const { path, text } = await mapFileWith(`${BIAS_FP16}: 0`, `${badName}: 0`);
    await expectForgeError(loadDeviceMap(path), {
      code: "INVALID_ENGINE_NAME",
      exitCode: 13,
      file: path,
      line: lineOf(text, badName),
      keyPath: `engines["${badName}"]`,
    });
  });

  it("rejects an engine that is not known, suggesting the closest known names", async () => {
    const typo = BIAS_FP16.replace("10.16.0", "10.15.0");
    const { path, text } = await mapFileWith(`${BIAS_FP16}: 0`, `${typo}: 0`);
    const error = await expectForgeError(loadDeviceMap(path, { knownEngines: KNOWN_ENGINES }), {
      code: "UNKNOWN_ENGINE",
      exitCode: 34,
      file: path,
      line: lineOf(text, typo),
      keyPath: `engines["${typo}"]`,
    });
    // The nearest known name comes first: one character differs.
    expect(error.fix).toContain(`closest: "${BIAS_FP16}", "${BIAS_INT8}"`);
    expect(error.message).not.toContain("fix:");
  });

  it("rejects a repeated engine with DUPLICATE_KEY at the repetition", async () => {
    const { path, text } = await mapFileWith(`  ${EMBEDDINGS_FP16}: 1\n`, `  ${EMBEDDINGS_FP16}: 1\n  ${BIAS_FP16}: 1\n`);
    const secondLine = text.split("\n").lastIndexOf(`  ${BIAS_FP16}: 1`) + 1;
    const error = await expectForgeError(loadDeviceMap(path), {
      code: "DUPLICATE_KEY",
      exitCode: 33,
      file: path,
      line: secondLine,
      keyPath: `engines["${BIAS_FP16}"]`,
    });
    expect(error.message).toContain(`already set at line ${lineOf(text, `${BIAS_FP16}: 0`)}`);
  });

  it("rejects an unknown top-level key with CONFIG_INVALID", async () => {
    const { path, text } = await mapFileWith("default_device: 1", "default_gpu: 1");
    const error = await expectForgeError(loadDeviceMap(path), {
      code: "CONFIG_INVALID",
      exitCode: 32,
      file: path,
      line: lineOf(text, "default_gpu: 1"),
      keyPath: "default_gpu",
    });
    expect(error.message).toContain("allowed: version, default_device, engines");
  });
});
