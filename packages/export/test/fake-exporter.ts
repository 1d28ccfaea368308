import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Writes a stand-in exporter module (`<dir>/<name>/__main__.py`) that follows the protocol, or
 * breaks it on purpose, so the driver's handling of real child processes can be tested without
 * torch. `body` is the Python code of the module.
 */
export async function writeFakeExporter(dir: string, name: string, body: string): Promise<void> {
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(
    join(dir, name, "__main__.py"),
    `import json, sys, time, os\ndef emit(obj):\n    print(json.dumps(obj), flush=True)\n${body}\n`,
  );
}

export const VALID_REPORT = {
  model_dir: "/m",
  model_id: "org/m",
  hf_revision: null,
  task: "feature-extraction",
  opset: 17,
  onnx_file: "model.onnx",
  onnx_sha256: "0".repeat(64),
  external_data: false,
  inputs: [{ name: "input_ids", dtype: "int64", shape: ["batch", "sequence"] }],
  outputs: [{ name: "last_hidden_state", dtype: "float32", shape: ["batch", "sequence", 4] }],
  reference: { file: "reference.safetensors", samples: 2, seq_len: 8 },
  versions: { torch: "2.13.0" },
};
