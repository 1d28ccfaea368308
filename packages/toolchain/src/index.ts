export { TOOLCHAIN_FILE, defaultToolchainPath, parseToolchain, readToolchain, type Toolchain, type ToolchainEntry } from "./toolchain.js";
export { buildFlavor, comparableVersion, satisfiesRange } from "./version.js";
export { compareWithToolchain, type VersionCheck, type VersionFinding } from "./compare-version.js";
export { execCommand, type Exec, type ExecOptions, type ExecResult } from "./exec.js";
export { PYTHON_PACKAGES, type PythonPackage } from "./python-packages.js";
export { checkPythonEnvironment, pythonInterpreterPath, type PythonCheck } from "./python-environment.js";
export { resolveOnnxruntimeNodeVersion } from "./onnxruntime-node-version.js";
