// The package's install script: builds build/Release/trtforge_trt<major>.node with node-gyp where
// TensorRT (10 or 11) and CUDA are found, and otherwise prints one line saying why not and exits 0,
// so that installs and CI without TensorRT succeed (marker builds need no addon).
//
//   node scripts/build.mjs            build if TensorRT is found
//   node scripts/build.mjs --dry-run  print the node-gyp command instead of running it
//
// TENSORRT_ROOT  a TensorRT install (include/, lib/); else /usr/include/<triplet>, /usr/lib/<triplet>
// CUDA_HOME      a CUDA toolkit (include/, lib64/); else CUDA_PATH, /usr/local/cuda, /usr
// TRTFORGE_SKIP_NATIVE_BUILD=1  never build (e.g. on a TensorRT host that does not want the addon)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findCuda, findTensorRT } from "./trt-probe.mjs";

const nativeDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const say = (message) => console.log(`@trtforge/native: ${message}`);
const dryRun = process.argv.includes("--dry-run");

function skip(reason) {
  say(`the TensorRT addon is not built: ${reason}`);
  process.exit(0);
}

if (process.env.TRTFORGE_SKIP_NATIVE_BUILD && process.env.TRTFORGE_SKIP_NATIVE_BUILD !== "0") {
  skip("TRTFORGE_SKIP_NATIVE_BUILD is set");
}
const trt = findTensorRT();
if (!trt.found) skip(trt.reason);
const cuda = findCuda();
if (!cuda.found) skip(`TensorRT ${trt.version.version} found in ${trt.includeDir}, but ${cuda.reason}`);

const require = createRequire(join(nativeDir, "package.json"));
let nodeGyp;
try {
  nodeGyp = require.resolve("node-gyp/bin/node-gyp.js");
  require.resolve("node-addon-api");
} catch {
  say(
    `TensorRT ${trt.version.version} found, but node-gyp or node-addon-api is not installed in ${nativeDir}: run pnpm install with dev dependencies`,
  );
  process.exit(1);
}

const major = trt.version.major;
const args = [
  nodeGyp,
  "rebuild",
  `--trt_major=${major}`,
  `--trt_include=${trt.includeDir}`,
  `--trt_lib=${trt.libDir}`,
  `--cuda_include=${cuda.includeDir}`,
  `--cuda_lib=${cuda.libDir}`,
];
// Node's own headers, when this Node ships them (a distribution's /usr/include/node, a tarball's
// include/node): no download, which hosts without internet access need.
const nodePrefix = resolve(dirname(process.execPath), "..");
if (existsSync(join(nodePrefix, "include", "node", "node_api.h"))) {
  args.push(`--nodedir=${nodePrefix}`);
}

say(
  `building trtforge_trt${major}.node against TensorRT ${trt.version.version} (${trt.includeDir}, ${trt.libDir}) and CUDA (${cuda.includeDir})`,
);
if (dryRun) {
  console.log([process.execPath, ...args].join(" "));
  process.exit(0);
}
const result = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: "inherit" });
if (result.status !== 0) {
  say(`node-gyp failed (exit ${result.status ?? result.signal}); set TRTFORGE_SKIP_NATIVE_BUILD=1 to install without the addon`);
  process.exit(result.status ?? 1);
}
const built = join(nativeDir, "build", "Release", `trtforge_trt${major}.node`);
if (!existsSync(built)) {
  say(`node-gyp succeeded but ${built} is missing`);
  process.exit(1);
}
say(`built ${built}`);
