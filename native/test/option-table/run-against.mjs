// node run-against.mjs <trtforge_trt<major>.node>: runs the option table against a built addon
// (stub-trt/run.sh calls it with the stub-linked build) and exits 1 on any disagreement.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOptionTable } from "./cases.mjs";

const addon = createRequire(import.meta.url)(process.argv[2]);
const dir = mkdtempSync(join(tmpdir(), "trtforge-option-table-"));
const onnxPath = join(dir, "model.onnx");
writeFileSync(onnxPath, "not really onnx");
try {
  const { count, mismatches } = await runOptionTable(addon, onnxPath);
  for (const m of mismatches)
    console.log(`MISMATCH ${m.name}\n  expected ${JSON.stringify(m.expected)}\n  got      ${JSON.stringify(m.got)}`);
  console.log(`option table: TensorRT ${addon.compiledTrtVersion()}, ${count} cases, ${mismatches.length} mismatches`);
  process.exitCode = mismatches.length === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
