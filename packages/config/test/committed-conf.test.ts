import { join } from "node:path";
import { projectRoot } from "@trtforge/core";
import { describe, expect, it } from "vitest";
import { defaultDeviceMapPath, defaultModelsConfigPath, engineNameFor, loadDeviceMap, loadModelsConfig } from "../src/index.js";

describe("the committed configuration", () => {
  it("default paths point into conf/ of the repository", () => {
    expect(defaultModelsConfigPath()).toBe(join(projectRoot(), "conf/models.yaml"));
    expect(defaultDeviceMapPath()).toBe(join(projectRoot(), "conf/engine_device_map.yaml"));
  });

  it("conf/models.yaml loads with its three models", async () => {
    const config = await loadModelsConfig();
    expect(config.models.map((m) => m.taskName)).toEqual(["sentiment", "bias", "embeddings"]);
    for (const model of config.models) {
      expect(model.trtVersion).toBe("10.16.0");
      expect(model.optSeqLen).toBeLessThanOrEqual(model.seqLen);
    }
  });

  it("conf/engine_device_map.yaml maps exactly the fp16 engines of conf/models.yaml", async () => {
    const config = await loadModelsConfig();
    const fp16Engines = config.models.map((model) => engineNameFor(model, "fp16"));
    const map = await loadDeviceMap(defaultDeviceMapPath(), { knownEngines: fp16Engines, gpuCount: 1 });
    expect([...map.devices.keys()].sort()).toEqual([...fp16Engines].sort());
    expect([...map.devices.values()]).toEqual([[0], [0], [0]]);
    expect(fp16Engines).toContain("embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.16.0-fp16.engine");
  });
});
