/** The distributions the export stage imports; each has a row of the same name in toolchain_versions.md. */
export const PYTHON_PACKAGES = ["torch", "transformers", "onnx", "onnxruntime", "onnxscript"] as const;

export type PythonPackage = (typeof PYTHON_PACKAGES)[number];
