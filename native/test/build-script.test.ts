import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { findCuda, findTensorRT, linkFlags, readTrtVersion, sourceFiles } from "../scripts/trt-probe.mjs";

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const temp = mkdtempSync(join(tmpdir(), "trtforge-native-probe-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

// NvInferVersion.h as 10.0-10.11 wrote it, and as 10.12+ / 11.x write it (through TRT_*_ENTERPRISE).
const HEADER_10_0 =
  "#define NV_TENSORRT_MAJOR 10 //!< TensorRT major version.\n#define NV_TENSORRT_MINOR 0\n#define NV_TENSORRT_PATCH 0\n#define NV_TENSORRT_BUILD 6\n";
const HEADER_11_1 = [
  "#ifndef NV_INFER_VERSION_H",
  "#define NV_INFER_VERSION_H",
  "#define TRT_MAJOR_ENTERPRISE 11",
  "#define TRT_MINOR_ENTERPRISE 1",
  "#define TRT_PATCH_ENTERPRISE 0",
  "#define TRT_BUILD_ENTERPRISE 106",
  "#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< TensorRT major version.",
  "#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE //!< TensorRT minor version.",
  "#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE //!< TensorRT patch version.",
  "#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE //!< TensorRT build number.",
  "#endif",
].join("\n");

function fakeRoot(name: string, versionHeader: string, libs: string[]): string {
  const root = join(temp, name);
  mkdirSync(join(root, "include"), { recursive: true });
  mkdirSync(join(root, "lib"), { recursive: true });
  for (const header of ["NvInfer.h", "NvOnnxParser.h"]) writeFileSync(join(root, "include", header), "");
  writeFileSync(join(root, "include", "NvInferVersion.h"), versionHeader);
  for (const lib of libs) writeFileSync(join(root, "lib", lib), "");
  return root;
}

/** Only files under the fake root exist: the standard paths are empty, as on this project's machines. */
function onlyUnder(root: string) {
  return (path: string) => path.startsWith(root) && existsSync(path);
}

describe("readTrtVersion", () => {
  it("reads the plain defines of 10.0-10.11", () => {
    expect(readTrtVersion(HEADER_10_0)).toEqual({ major: 10, minor: 0, patch: 0, build: 6, version: "10.0.0.6" });
  });
  it("follows the TRT_*_ENTERPRISE indirection of 10.12 and later", () => {
    expect(readTrtVersion(HEADER_11_1)).toEqual({ major: 11, minor: 1, patch: 0, build: 106, version: "11.1.0.106" });
  });
  it("returns undefined without a major", () => {
    expect(readTrtVersion("#define SOMETHING 1\n")).toBeUndefined();
  });
});

describe("findTensorRT", () => {
  it("finds TENSORRT_ROOT's headers and versioned libraries", () => {
    const root = fakeRoot("trt11", HEADER_11_1, ["libnvinfer.so.11", "libnvonnxparser.so.11"]);
    const found = findTensorRT({ env: { TENSORRT_ROOT: root }, exists: onlyUnder(root) });
    expect(found).toMatchObject({
      found: true,
      includeDir: join(root, "include"),
      libDir: join(root, "lib"),
      version: { major: 11, version: "11.1.0.106" },
      linkFlags: ["-l:libnvinfer.so.11", "-l:libnvonnxparser.so.11"],
    });
  });

  it("says why when nothing is found, naming the paths it searched", () => {
    const found = findTensorRT({ env: {}, exists: () => false, arch: "x64" });
    expect(found.found).toBe(false);
    expect(found.reason).toContain("/usr/include/x86_64-linux-gnu");
    expect(found.reason).toContain("TENSORRT_ROOT");
  });

  it("refuses headers without libraries, and other majors", () => {
    const headersOnly = fakeRoot("headers-only", HEADER_10_0, []);
    expect(findTensorRT({ env: { TENSORRT_ROOT: headersOnly }, exists: onlyUnder(headersOnly) }).reason).toMatch(/no libnvinfer\.so/);
    const eight = fakeRoot("trt8", HEADER_10_0.replace("MAJOR 10", "MAJOR 8"), ["libnvinfer.so", "libnvonnxparser.so"]);
    expect(findTensorRT({ env: { TENSORRT_ROOT: eight }, exists: onlyUnder(eight) }).reason).toMatch(/not a supported major/);
  });
});

describe("findCuda and linkFlags", () => {
  it("prefers CUDA_HOME and needs libcudart.so", () => {
    const cuda = join(temp, "cuda");
    mkdirSync(join(cuda, "include"), { recursive: true });
    mkdirSync(join(cuda, "lib64"), { recursive: true });
    writeFileSync(join(cuda, "include", "cuda_runtime_api.h"), "");
    expect(findCuda({ env: { CUDA_HOME: cuda }, exists: onlyUnder(cuda) }).found).toBe(false);
    writeFileSync(join(cuda, "lib64", "libcudart.so"), "");
    expect(findCuda({ env: { CUDA_HOME: cuda }, exists: onlyUnder(cuda) })).toEqual({
      found: true,
      includeDir: join(cuda, "include"),
      libDir: join(cuda, "lib64"),
    });
  });

  it("links TensorRT, its ONNX parser and cudart with rpaths", () => {
    expect(linkFlags("/opt/trt/lib", "/usr/local/cuda/lib64", "10", (p: string) => p.endsWith(".so"))).toEqual([
      "-L/opt/trt/lib",
      "-L/usr/local/cuda/lib64",
      "-lnvinfer",
      "-lnvonnxparser",
      "-lcudart",
      "-Wl,-rpath,/opt/trt/lib",
      "-Wl,-rpath,/usr/local/cuda/lib64",
    ]);
  });

  it("compiles every src/*.cc", () => {
    expect(sourceFiles()).toContain("src/addon.cc");
    expect(sourceFiles().every((f: string) => f.startsWith("src/") && f.endsWith(".cc"))).toBe(true);
  });
});

describe("scripts/build.mjs", () => {
  const run = (env: NodeJS.ProcessEnv, args: string[] = []) =>
    spawnSync(process.execPath, [join(nativeDir, "scripts", "build.mjs"), ...args], { env: { ...process.env, ...env }, encoding: "utf8" });

  it("prints one line and exits 0 when it will not build", () => {
    const result = run({ TRTFORGE_SKIP_NATIVE_BUILD: "1" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      "@trtforge/native: the TensorRT addon is not built: TRTFORGE_SKIP_NATIVE_BUILD is set",
    ]);
  });

  it("passes the major it read to node-gyp (dry run)", () => {
    const root = fakeRoot("dry-run", HEADER_11_1, ["libnvinfer.so", "libnvonnxparser.so"]);
    const cuda = join(temp, "cuda-dry");
    mkdirSync(join(cuda, "include"), { recursive: true });
    mkdirSync(join(cuda, "lib64"), { recursive: true });
    writeFileSync(join(cuda, "include", "cuda_runtime_api.h"), "");
    writeFileSync(join(cuda, "lib64", "libcudart.so"), "");
    const result = run({ TENSORRT_ROOT: root, CUDA_HOME: cuda }, ["--dry-run"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("building trtforge_trt11.node against TensorRT 11.1.0.106");
    expect(result.stdout).toMatch(/node-gyp\.js rebuild --trt_major=11 --trt_include=\S+ --trt_lib=\S+ --cuda_include=\S+ --cuda_lib=\S+/);
  });
});
