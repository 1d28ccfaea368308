import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The Python-backend models' sources ship in the package's python/ folder (linted and tested as Python). */
const PYTHON_DIR = join(import.meta.dirname, "..", "python");

const cache = new Map<string, Promise<string>>();
function source(file: string): Promise<string> {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFile(join(PYTHON_DIR, file), "utf8");
    cache.set(file, text);
  }
  return text;
}

export const tokenizeModelSource = (): Promise<string> => source("tokenize_model.py");
export const labelsModelSource = (): Promise<string> => source("labels_model.py");
/** TEST ONLY: the Python stand-in for the onnxruntime_onnx model (see ExportTritonOptions.testOnlyPythonOnnx). */
export const onnxStandInSource = (): Promise<string> => source("onnx_standin_model.py");
