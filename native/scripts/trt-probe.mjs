// Finds TensorRT and CUDA for the native build, without running anything from them.
//
// As a module: findTensorRT(), findCuda(), readTrtVersion(), linkFlags() (used by build.mjs and
// the tests). As a command (used by binding.gyp for its defaults when node-gyp is run directly):
//   node scripts/trt-probe.mjs major|include|lib|cuda_include|cuda_lib|sources
//   node scripts/trt-probe.mjs link_flags <trt_lib> <cuda_lib> <major>
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const nativeDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The Debian multiarch triplet of this machine, e.g. x86_64-linux-gnu. */
export function multiarchTriplet(arch = process.arch) {
  return arch === "arm64" ? "aarch64-linux-gnu" : arch === "x64" ? "x86_64-linux-gnu" : `${arch}-linux-gnu`;
}

/**
 * The version NvInferVersion.h declares. From 10.12 on, NV_TENSORRT_MAJOR etc. are defined as
 * TRT_MAJOR_ENTERPRISE etc., so a name is followed to its number.
 * @param {string} text
 * @returns {{major: number, minor: number, patch: number, build: number, version: string} | undefined}
 */
export function readTrtVersion(text) {
  const defines = new Map();
  for (const match of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\s/]+)/gm)) {
    defines.set(match[1], match[2]);
  }
  const resolveField = (name) => {
    let value = defines.get(name);
    for (let hops = 0; value !== undefined && !/^\d+$/.test(value) && hops < 4; hops += 1) {
      value = defines.get(value);
    }
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  const major = resolveField("NV_TENSORRT_MAJOR");
  const minor = resolveField("NV_TENSORRT_MINOR");
  const patch = resolveField("NV_TENSORRT_PATCH");
  const build = resolveField("NV_TENSORRT_BUILD");
  if (major === undefined || minor === undefined) return undefined;
  const p = patch ?? 0;
  const b = build ?? 0;
  return { major, minor, patch: p, build: b, version: `${major}.${minor}.${p}.${b}` };
}

function findLibrary(dirs, name, major, exists) {
  for (const dir of dirs) {
    if (exists(join(dir, `lib${name}.so`))) return { dir, flag: `-l${name}` };
    if (major !== undefined && exists(join(dir, `lib${name}.so.${major}`))) return { dir, flag: `-l:lib${name}.so.${major}` };
  }
  return undefined;
}

/**
 * Where TensorRT's headers and libraries are: TENSORRT_ROOT/include (and lib, lib64) first, then
 * the standard Debian/Ubuntu paths. Reasons are one line, for the install log.
 * @param {{env?: NodeJS.ProcessEnv, exists?: (path: string) => boolean, readFile?: (path: string) => string, arch?: string}} [deps]
 */
export function findTensorRT(deps = {}) {
  const env = deps.env ?? process.env;
  const exists = deps.exists ?? existsSync;
  const readFile = deps.readFile ?? ((path) => readFileSync(path, "utf8"));
  const triplet = multiarchTriplet(deps.arch);
  const root = env.TENSORRT_ROOT?.trim();
  const includeDirs = [...(root ? [join(root, "include")] : []), `/usr/include/${triplet}`, "/usr/include"];
  const libDirs = [...(root ? [join(root, "lib"), join(root, "lib64")] : []), `/usr/lib/${triplet}`, "/usr/lib"];

  const includeDir = includeDirs.find((dir) => exists(join(dir, "NvInfer.h")));
  if (includeDir === undefined) {
    return {
      found: false,
      reason: `TensorRT not found: no NvInfer.h in ${includeDirs.join(", ")}${root ? "" : " (set TENSORRT_ROOT to a TensorRT install)"}`,
    };
  }
  const versionHeader = join(includeDir, "NvInferVersion.h");
  if (!exists(versionHeader)) {
    return { found: false, reason: `TensorRT headers in ${includeDir} have NvInfer.h but no NvInferVersion.h` };
  }
  const version = readTrtVersion(readFile(versionHeader));
  if (version === undefined) {
    return { found: false, reason: `cannot read NV_TENSORRT_MAJOR/MINOR from ${versionHeader}` };
  }
  if (version.major !== 10 && version.major !== 11) {
    return { found: false, reason: `TensorRT ${version.version} in ${includeDir} is not a supported major (10 or 11)` };
  }
  if (!exists(join(includeDir, "NvOnnxParser.h"))) {
    return {
      found: false,
      reason: `TensorRT ${version.version} headers in ${includeDir} lack NvOnnxParser.h (install the ONNX parser's development files)`,
    };
  }
  const nvinfer = findLibrary(libDirs, "nvinfer", version.major, exists);
  const parser = findLibrary(libDirs, "nvonnxparser", version.major, exists);
  if (nvinfer === undefined || parser === undefined) {
    return {
      found: false,
      reason: `TensorRT ${version.version} headers in ${includeDir} but no ${nvinfer === undefined ? "libnvinfer.so" : "libnvonnxparser.so"} in ${libDirs.join(", ")}`,
    };
  }
  return { found: true, includeDir, libDir: nvinfer.dir, parserLibDir: parser.dir, version, linkFlags: [nvinfer.flag, parser.flag] };
}

/**
 * CUDA's runtime headers and library: CUDA_HOME, CUDA_PATH, /usr/local/cuda, then the distribution's.
 * @param {{env?: NodeJS.ProcessEnv, exists?: (path: string) => boolean, arch?: string}} [deps]
 */
export function findCuda(deps = {}) {
  const env = deps.env ?? process.env;
  const exists = deps.exists ?? existsSync;
  const triplet = multiarchTriplet(deps.arch);
  const targetArch = deps.arch === "arm64" ? "sbsa-linux" : "x86_64-linux";
  const roots = [env.CUDA_HOME, env.CUDA_PATH, "/usr/local/cuda"].filter((r) => r !== undefined && r.trim() !== "");
  const candidates = [
    ...roots.map((r) => ({ include: join(r, "include"), libs: [join(r, "lib64"), join(r, "lib"), join(r, "targets", targetArch, "lib")] })),
    { include: "/usr/include", libs: [`/usr/lib/${triplet}`, "/usr/lib"] },
  ];
  for (const candidate of candidates) {
    if (!exists(join(candidate.include, "cuda_runtime_api.h"))) continue;
    const libDir = candidate.libs.find((dir) => exists(join(dir, "libcudart.so")));
    if (libDir === undefined) {
      return { found: false, reason: `CUDA headers in ${candidate.include} but no libcudart.so in ${candidate.libs.join(", ")}` };
    }
    return { found: true, includeDir: candidate.include, libDir };
  }
  return {
    found: false,
    reason: `CUDA not found: no cuda_runtime_api.h under ${candidates.map((c) => c.include).join(", ")} (set CUDA_HOME)`,
  };
}

/** Linker flags for binding.gyp: TensorRT, its ONNX parser and the CUDA runtime, with rpaths. */
export function linkFlags(trtLib, cudaLib, major, exists = existsSync) {
  const pick = (name) =>
    exists(join(trtLib, `lib${name}.so`)) || !exists(join(trtLib, `lib${name}.so.${major}`)) ? `-l${name}` : `-l:lib${name}.so.${major}`;
  return [
    `-L${trtLib}`,
    `-L${cudaLib}`,
    pick("nvinfer"),
    pick("nvonnxparser"),
    "-lcudart",
    `-Wl,-rpath,${trtLib}`,
    `-Wl,-rpath,${cudaLib}`,
  ];
}

export function sourceFiles() {
  return readdirSync(join(nativeDir, "src"))
    .filter((f) => f.endsWith(".cc"))
    .sort()
    .map((f) => `src/${f}`);
}

function main(argv) {
  const [what, ...rest] = argv;
  if (what === "sources") return sourceFiles().join(" ");
  if (what === "link_flags") {
    const [trtLib, cudaLib, major] = rest;
    if (!trtLib || !cudaLib || !major) throw new Error("usage: trt-probe.mjs link_flags <trt_lib> <cuda_lib> <major>");
    return linkFlags(trtLib, cudaLib, major).join(" ");
  }
  if (what === "cuda_include" || what === "cuda_lib") {
    const cuda = findCuda();
    if (!cuda.found) throw new Error(cuda.reason);
    return what === "cuda_include" ? cuda.includeDir : cuda.libDir;
  }
  const trt = findTensorRT();
  if (!trt.found) throw new Error(trt.reason);
  switch (what) {
    case "major":
      return String(trt.version.major);
    case "version":
      return trt.version.version;
    case "include":
      return trt.includeDir;
    case "lib":
      return trt.libDir;
    default:
      throw new Error(`unknown query ${what}; one of major, version, include, lib, cuda_include, cuda_lib, sources, link_flags`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${main(process.argv.slice(2))}\n`);
  } catch (err) {
    process.stderr.write(`trt-probe: ${err.message}\n`);
    process.exit(1);
  }
}
