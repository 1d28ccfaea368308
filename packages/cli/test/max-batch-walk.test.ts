import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type Profile } from "@trtforge/core";
import { EngineMetadataSchema, profileOfMetadata } from "@trtforge/engine-format";
import type { AddonBinding, BuildEngineOptions } from "@trtforge/native";
import { createFakeAddon } from "@trtforge/native/fake";
import { BUILD_OPTIONS, normalizeBuildRequest, requestFromFlags, runPipeline, type BuildOptionRow } from "@trtforge/pipeline";
import { admit, openServedModel } from "@trtforge/runtime";
import { agNewsCsv } from "../../../tests/support/ag-news.js";
import { makeTinyClassifier } from "../../../tests/support/tiny-classifier.js";
import { createBuildEngineProgram } from "../src/build-engine-cli.js";

// docs/development.md's walk of --max-batch: from the command line to the addon's build options and
// back out of the engine metadata into the served model's profile, one Profile the whole way.
let dir: string;
let model: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-max-batch-walk-"));
  model = join(dir, "tiny-classifier");
  makeTinyClassifier(model);
  await mkdir(join(dir, "store"));
}, 300_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** The fake addon, keeping the options each buildEngine call received. */
function recordingAddon(): { binding: AddonBinding; received: BuildEngineOptions[] } {
  const fake = createFakeAddon({ trtMajor: 10 });
  const received: BuildEngineOptions[] = [];
  const binding: AddonBinding = Object.assign(Object.create(fake) as AddonBinding, {
    buildEngine: (options: BuildEngineOptions, callbacks?: Parameters<AddonBinding["buildEngine"]>[1]) => {
      received.push(structuredClone(options));
      return fake.buildEngine(options, callbacks);
    },
  });
  return { binding, received };
}

describe("--max-batch 7 walks through one Profile", () => {
  it("is profile.batch.max in the request, the addon's options, the metadata and the served model", async () => {
    const argv = ["--model", model, "--max-batch", "7", "--sequence-length", "64", "--opt-sequence-length", "32", "--precision", "fp32"];
    const program = createBuildEngineProgram().exitOverride();
    program.action(() => undefined).parse(argv, { from: "user" });
    const flags = requestFromFlags(program.opts());
    expect(flags).toMatchObject({ maxBatch: "7", sequenceLength: "64" });

    const request = normalizeBuildRequest(flags, { defaultArticles: agNewsCsv() });
    const expected: Profile = { batch: { min: 1, opt: 4, max: 7 }, sequence: { min: 1, opt: 32, max: 64 } };
    expect(request.build.profile).toEqual(expected);

    const { binding, received } = recordingAddon();
    const result = await runPipeline({
      ...flags,
      model,
      modelId: "trtforge-tests/tiny-news-classifier",
      revision: "0000000000000000000000000000000000000000",
      storeRoot: join(dir, "store"),
      articles: agNewsCsv(),
      calibrationSamples: 8,
      heldOut: 8,
      calibrationBatch: 8,
      cpuServing: "off",
      workRoot: join(dir, "work"),
      logger: silentLogger(),
      addon: { available: true, trtMajor: binding.trtMajor, path: "fake", binding },
    });
    expect(result.kind).toBe("engine");
    expect(result.options.profile).toEqual(expected);

    // The addon received the Profile itself, not shapes per input.
    expect(received).toHaveLength(1);
    expect(received[0]!.profile).toEqual(expected);
    expect(received[0]!.profiles).toBeUndefined();

    const sidecar = join(result.versionPath, result.engineName.replace(/\.engine$/, ".json"));
    const metadata = EngineMetadataSchema.parse(JSON.parse(await readFile(sidecar, "utf8")));
    expect(metadata.max_batch_size).toBe(7);
    expect(metadata.seq_len).toBe(64);
    expect(metadata.build_options).toMatchObject({ opt_batch_size: 4, min_seq_len: 1, opt_seq_len: 32, strongly_typed: true });
    for (const input of metadata.inputs) expect(input).toMatchObject({ min_shape: [1, 1], opt_shape: [4, 32], max_shape: [7, 64] });
    expect(profileOfMetadata(metadata)).toEqual(expected);

    // Every row of the option table that names a metadata key finds it written (library: TensorRT-RTX only).
    for (const row of Object.values(BUILD_OPTIONS) as BuildOptionRow[]) {
      if (row.metadataKey === undefined || row.metadataKey === "library") continue;
      expect(row.metadataKey in metadata || row.metadataKey in metadata.build_options, row.metadataKey).toBe(true);
    }

    // The runtime opens the published version and serves the same Profile: 7 rows admitted and run, 8
    // refused. On ONNX Runtime, because the fake engine's outputs are not the classifier's; the profile
    // comes from the engine metadata on either backend.
    const served = await openServedModel(
      { storeRoot: join(dir, "store"), agent: result.agent, version: result.version },
      { addon: binding, forceOnnxRuntime: true },
    );
    try {
      expect(served.profile).toEqual(expected);
      const texts = Array.from({ length: 8 }, (_, i) => `Markets closed higher for the ${i + 1}th day in a row.`);
      const admitted = admit(served, { texts: texts.slice(0, 7), truncate: true });
      expect(admitted.tokens.rows).toBe(7);
      const outputs = await served.run(admitted.tokens);
      admitted.release();
      expect(outputs.find((o) => o.name === "label")?.shape).toEqual([7]);
      expect(() => admit(served, { texts, truncate: true })).toThrow(expect.objectContaining({ code: "BATCH_TOO_LARGE" }));
    } finally {
      await served.dispose();
    }
  }, 600_000);
});
