import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFakeAddon } from "../src/fake-addon.js";
import { expected, optionCases, outcome } from "./option-table/cases.mjs";

const REPO_ROOT = join(import.meta.dirname, "../..");
const temp = mkdtempSync(join(tmpdir(), "trtforge-option-table-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const onnxPath = join(temp, "model.onnx");
writeFileSync(onnxPath, "not really onnx");

describe.each([10, 11] as const)("the fake addon, TensorRT %i: build-option-cases.json", (major) => {
  const addon = createFakeAddon({ trtMajor: major });
  it.each(optionCases(major, onnxPath).map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    expect(await outcome(addon, c.args)).toEqual(expected(c.expect, addon.compiledTrtVersion()));
  });
});

/**
 * The same table against the real addon, compiled against TensorRT headers and linked to stub
 * libraries by stub-trt/run.sh (minutes per major). Headers are fetched, never committed: this runs
 * for each third_party/tensorrt-v<major>.<minor>/include present, and says why when it cannot.
 */
function headerFolders(): { major: number; include: string }[] {
  const thirdParty = join(REPO_ROOT, "third_party");
  if (!existsSync(thirdParty)) return [];
  return readdirSync(thirdParty)
    .map((name) => ({ major: Number(/^tensorrt-v(\d+)\./.exec(name)?.[1]), include: join(thirdParty, name, "include") }))
    .filter((h) => Number.isInteger(h.major) && existsSync(join(h.include, "NvInferVersion.h")));
}

const headers = headerFolders();
const compiler = spawnSync("sh", ["-c", "command -v c++ && command -v cc"], { encoding: "utf8" }).status === 0;
const skipReason =
  headers.length === 0
    ? `no TensorRT headers in ${join(REPO_ROOT, "third_party")} (tensorrt-v<version>/include; they are fetched, never committed)`
    : !compiler
      ? "no C/C++ compiler (cc, c++) to build the stub-linked addon"
      : undefined;
if (skipReason !== undefined) console.warn(`option table against the real addon: skipped, ${skipReason}`);

describe.skipIf(skipReason !== undefined)("the real addon linked to stub TensorRT: build-option-cases.json", () => {
  it.each(headers.map((h) => [h.major, h.include] as const))(
    "TensorRT %i agrees with the table",
    (_major, include) => {
      const run = spawnSync("bash", [join(import.meta.dirname, "stub-trt/run.sh")], {
        env: { ...process.env, TENSORRT_INCLUDE: include },
        encoding: "utf8",
        timeout: 580_000,
      });
      const output = `${run.stdout}${run.stderr}`;
      expect(run.status, output).toBe(0);
      expect(output).toMatch(/option table: TensorRT \S+, \d+ cases, 0 mismatches/);
    },
    600_000,
  );
});
