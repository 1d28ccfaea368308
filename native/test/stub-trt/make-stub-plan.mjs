// Writes a stub plan for stub_runtime.cu from an engine's v1 metadata (the inputs and outputs with
// min/opt/max shapes that the pipeline publishes): TensorRT's public header ("ftrt" magic,
// version bytes 24..27, which verify-engine and the addon read) and one line per I/O tensor.
// A dimension whose min and max differ is dynamic (-1); an output's dynamic dimension is bound to
// the first input dimension with the same min/opt/max (batch, sequence), written @input.dim.
//
//   node make-stub-plan.mjs <metadata.json> <TensorRT version a.b.c.d> <out.plan>
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function stubPlanText(metadata) {
  const key = (spec, d) => `${spec.min_shape[d]}/${spec.opt_shape[d]}/${spec.max_shape[d]}`;
  const lines = ["# trtforge stub plan: I/O tensors of " + metadata.model_id + " (" + metadata.precision + ")"];
  for (const input of metadata.inputs) {
    const dims = input.min_shape.map((min, d) => (min === input.max_shape[d] ? String(min) : "-1"));
    lines.push(
      [
        "input",
        input.name,
        input.dtype,
        dims.join(","),
        input.min_shape.join(","),
        input.opt_shape.join(","),
        input.max_shape.join(","),
      ].join(" "),
    );
  }
  for (const output of metadata.outputs) {
    const dims = output.min_shape.map((min, d) => {
      if (min === output.max_shape[d]) return String(min);
      for (const [i, input] of metadata.inputs.entries()) {
        const match = input.min_shape.findIndex((_, e) => key(input, e) === key(output, d));
        if (match >= 0) return `@${i}.${match}`;
      }
      throw new Error(`output ${output.name} dimension ${d} (${key(output, d)}) matches no input dimension`);
    });
    lines.push(["output", output.name, output.dtype, dims.join(",")].join(" "));
  }
  return lines.join("\n") + "\n";
}

export function stubPlan(metadata, version) {
  const parts = version.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`TensorRT version ${version}: expected major.minor.patch.build, each 0..255`);
  }
  const header = Buffer.alloc(28);
  header.write("ftrt", 0, "ascii");
  header.write("TRTFORGE-STUB-PLAN", 4, "ascii");
  Buffer.from(parts).copy(header, 24);
  return Buffer.concat([header, Buffer.from(stubPlanText(metadata), "utf8")]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [metadataPath, version, outPath] = process.argv.slice(2);
  if (!metadataPath || !version || !outPath) {
    console.error("usage: node make-stub-plan.mjs <metadata.json> <a.b.c.d> <out.plan>");
    process.exit(2);
  }
  writeFileSync(outPath, stubPlan(JSON.parse(readFileSync(metadataPath, "utf8")), version));
}
