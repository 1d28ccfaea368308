import { configDefaults, defineConfig } from "vitest/config";
import { slowestFirst } from "./tests/support/sequencer.js";

/**
 * The end-to-end suites: real exports and builds through the pipeline, serve-engine processes,
 * tritonserver and perf_analyzer, TensorRT-RTX builds. Everything else is the `unit` project
 * (`pnpm test:unit`, the inner loop). Both run in scripts/test.sh.
 */
const E2E = [
  "tests/pipeline-*.test.ts",
  "tests/serve-*.test.ts",
  "tests/triton/**/*.test.ts",
  "tests/store-operator.test.ts",
  "tests/export.test.ts",
  "tests/work-dir.test.ts",
  "tests/cpu-serving-stage.test.ts",
  "tests/gpu-serving-stage.test.ts",
  "tests/gpu-runtime-smoke.test.ts",
  "tests/build-markers.test.ts",
  "packages/builder/test/trtrtx-build.test.ts",
  "tests/compare-engines.test.ts",
  // A whole build (export included) of the tiny classifier through the CLI, with the fake addon.
  "packages/cli/test/max-batch-walk.test.ts",
  // Real sensitivity probes over a MiniLM export: minutes, and nothing in it differs between Node versions.
  "packages/calibration/test/w8a8-plan.test.ts",
];

/**
 * What differs between Node versions is the native binding, onnxruntime-node and the Node APIs the
 * code uses: `TRTFORGE_TEST_SCOPE=lts` (scripts/test.sh --lts, on the LTS Node) runs the unit
 * project and, of the end-to-end suites, only this smoke of the CLIs, the pipeline and serving.
 */
/**
 * The files that start first, longest first (tests/support/sequencer.ts): on two workers a long file
 * started late runs alone at the end. The first two are the two MiniLM suites that do not share an
 * export, so the suites after them find MiniLM's export done instead of exporting it at the same time.
 * From `node scripts/test-durations.mjs` of a whole run; keep it in step when a file grows or shrinks.
 */
const SLOWEST_FIRST = [
  "tests/pipeline-marker.test.ts",
  "packages/calibration/test/w8a8-plan.test.ts",
  "tests/compare-engines.test.ts",
  "tests/serve-engine.test.ts",
  "tests/pipeline-current.test.ts",
  "tests/serve-triton-tools.test.ts",
  "tests/pipeline-cancel.test.ts",
  "tests/export.test.ts",
];

const E2E_SMOKE = ["tests/serve-smoke.test.ts"];
const lts = process.env.TRTFORGE_TEST_SCOPE === "lts";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on the project's machines: more workers only add contention.
    maxWorkers: 2,
    sequence: { sequencer: slowestFirst(SLOWEST_FIRST) },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "native/test/**/*.test.ts", "tests/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...E2E],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: lts ? E2E_SMOKE : E2E,
          globalSetup: ["tests/support/e2e-setup.ts"],
        },
      },
    ],
  },
});
