// Reads build-option-cases.json and runs its cases against any AddonBinding: the fake
// (option-table.test.ts) or the real addon linked to stub TensorRT (stub-trt/run.sh). One table,
// so the fake's option checks cannot drift from native/src/build_options.cc and build_worker.cc.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const TABLE = JSON.parse(readFileSync(join(import.meta.dirname, "build-option-cases.json"), "utf8"));

function materialize(value, onnxPath) {
  if (value === "$onnx") return onnxPath;
  if (Array.isArray(value)) return value.map((v) => materialize(v, onnxPath));
  if (value === null || typeof value !== "object") return value;
  if ("$bytes" in value) return Buffer.from(value.$bytes, "utf8");
  if ("$arrayBuffer" in value) return new Uint8Array(Buffer.from(value.$arrayBuffer, "utf8")).buffer;
  if ("$bigint" in value) return BigInt(value.$bigint);
  if ("$function" in value) return () => {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialize(v, onnxPath)]));
}

/** The cases that apply to a TensorRT major, with their buildEngine arguments built. */
export function optionCases(major, onnxPath) {
  return TABLE.cases
    .filter((c) => c.majors === undefined || c.majors.includes(major))
    .map((c) => {
      let options;
      if (c.replace) {
        options = materialize(c.options, onnxPath);
      } else {
        options = materialize({ ...TABLE.base, ...c.options }, onnxPath);
        for (const key of c.unset ?? []) delete options[key];
      }
      const args = "callbacks" in c ? [options, materialize(c.callbacks, onnxPath)] : [options];
      return { name: c.name, args, expect: c.expect };
    });
}

/**
 * What buildEngine did with the case's arguments, in the table's terms: {accepted: true}, or
 * {error, message} with error "TypeError" or the NativeError code. An accepted job is cancelled
 * and its promise settled (it fails later without a GPU; that is not what the table checks).
 */
export async function outcome(addon, args) {
  let job;
  try {
    job = addon.buildEngine(...args);
  } catch (err) {
    return { error: err instanceof TypeError ? "TypeError" : String(err?.code ?? err?.name), message: String(err?.message) };
  }
  job.cancel();
  await job.promise.catch(() => undefined);
  return { accepted: true };
}

export function expected(expect, compiledVersion) {
  if (expect.accepted) return { accepted: true };
  return { error: expect.error, message: expect.message.replaceAll("{version}", compiledVersion) };
}

/** Every case against one addon: the cases whose outcome differs from the table, and how many ran. */
export async function runOptionTable(addon, onnxPath) {
  const cases = optionCases(addon.trtMajor, onnxPath);
  const mismatches = [];
  for (const c of cases) {
    const want = expected(c.expect, addon.compiledTrtVersion());
    const got = await outcome(addon, c.args);
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ name: c.name, expected: want, got });
  }
  return { count: cases.length, mismatches };
}
