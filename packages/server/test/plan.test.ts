import { describe, expect, it } from "vitest";
import { deviceMapFromYaml, parseYamlText } from "@trtforge/config";
import { DEFAULT_RESTART_POLICY, parseModelRef, planWorkers, restartDelay } from "../src/index.js";

const EMB = "embeddings.sentence-transformers--all-MiniLM-L6-v2-c9745ed1d9f2-trt-10.16.0-fp16.engine";
const SENT = "sentiment.cardiffnlp--twitter-roberta-base-sentiment-latest-4ba3d4463bd1-trt-10.16.0-fp16.engine";

describe("parseModelRef", () => {
  it("takes agent and agent@version, refuses anything else with INVALID_NAME", () => {
    expect(parseModelRef("trt-embeddings")).toEqual({ agent: "trt-embeddings" });
    expect(parseModelRef("trt-sentiment@v2")).toEqual({ agent: "trt-sentiment", version: "v2" });
    for (const bad of ["", "@v1", "a@", "a@b@c"])
      expect(() => parseModelRef(bad)).toThrow(expect.objectContaining({ code: "INVALID_NAME" }));
  });
});

describe("planWorkers", () => {
  const models = [{ agent: "trt-embeddings" }, { agent: "trt-sentiment", version: "v2" }];
  const engineNames = new Map([
    ["trt-embeddings", EMB],
    ["trt-sentiment", SENT],
  ]);

  it("without GPUs: --cpu-workers workers, each with every model and no GPU", () => {
    const plans = planWorkers({ models, gpuCount: 0, cpuWorkers: 2, deviceMap: undefined, engineNames });
    expect(plans).toEqual([
      { name: "cpu0", gpu: undefined, models },
      { name: "cpu1", gpu: undefined, models },
    ]);
  });

  it("with GPUs: one worker per GPU the device map uses, each loading only its models", () => {
    const file = parseYamlText("map.yaml", `version: 1\ndefault_device: 0\nengines:\n  ${EMB}: 1\n  ${SENT}: 0\n`);
    const deviceMap = deviceMapFromYaml(file, { gpuCount: 2 });
    const plans = planWorkers({ models, gpuCount: 2, cpuWorkers: 3, deviceMap, engineNames });
    expect(plans).toEqual([
      { name: "gpu0", gpu: 0, models: [models[1]] },
      { name: "gpu1", gpu: 1, models: [models[0]] },
    ]);
  });

  it("an engine listed with several GPUs is loaded by each of their workers; workers carry their GPU's UUID", () => {
    const file = parseYamlText("map.yaml", `version: 1\nengines:\n  ${EMB}: [0, 1]\n  ${SENT}: 1\n`);
    const deviceMap = deviceMapFromYaml(file, { gpuCount: 2 });
    const plans = planWorkers({ models, gpuCount: 2, cpuWorkers: 1, deviceMap, engineNames, gpuUuids: ["GPU-a", "GPU-b"] });
    expect(plans).toEqual([
      { name: "gpu0", gpu: 0, gpuUuid: "GPU-a", models: [models[0]] },
      { name: "gpu1", gpu: 1, gpuUuid: "GPU-b", models: [models[0], models[1]] },
    ]);
  });

  it("an engine the map does not list goes to the default device; no map at all: GPU 0", () => {
    const file = parseYamlText("map.yaml", `version: 1\ndefault_device: 1\nengines: {}\n`);
    expect(
      planWorkers({ models, gpuCount: 2, cpuWorkers: 1, deviceMap: deviceMapFromYaml(file, { gpuCount: 2 }), engineNames }).map(
        (plan) => plan.gpu,
      ),
    ).toEqual([1]);
    expect(planWorkers({ models, gpuCount: 1, cpuWorkers: 1, deviceMap: undefined, engineNames: new Map() })).toEqual([
      { name: "gpu0", gpu: 0, models },
    ]);
  });
});

describe("restartDelay", () => {
  it("doubles per exit in a row from 250 ms and stops at 10 s", () => {
    expect([0, 1, 2, 3, 5, 6, 20].map((exits) => restartDelay(DEFAULT_RESTART_POLICY, exits))).toEqual([
      250, 500, 1000, 2000, 8000, 10_000, 10_000,
    ]);
  });
});
