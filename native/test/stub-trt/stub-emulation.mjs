// The stub TensorRT runtime (stub_runtime.cu) re-done in JavaScript, behind the addon's binding
// interface: it parses the same stub plans and computes the same values (stub-formula.mjs). It lets
// gpu-runtime-smoke.mjs run on a machine without a GPU (tests/gpu-runtime-smoke.test.ts, in CI), so
// the program is known to work before it spends borrowed GPU time; the GPU run uses the real addon.
import { rowChecksums, stubValue } from "./stub-formula.mjs";

const HEADER_BYTES = 28;

function parsePlan(bytes) {
  const buffer = Buffer.from(bytes);
  if (buffer.subarray(0, 4).toString("ascii") !== "ftrt" || !buffer.subarray(4, 22).toString("ascii").startsWith("TRTFORGE-STUB-PLAN")) {
    throw Object.assign(new Error("not a stub plan"), { code: "ENGINE_LOAD_FAILED" });
  }
  const version = [...buffer.subarray(24, 28)].join(".");
  const lines = buffer
    .subarray(HEADER_BYTES)
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  const dims = (text) => text.split(",");
  const io = lines.map((line) => {
    const [mode, name, dtype, shape, min, opt, max] = line.split(" ");
    const tensor = { name, mode, dtype: dtype === "float32" ? "fp32" : dtype, location: "device", shapeText: dims(shape) };
    if (mode === "input") tensor.profile = { min: dims(min).map(Number), opt: dims(opt).map(Number), max: dims(max).map(Number) };
    return tensor;
  });
  return { version, io };
}

export function createStubEmulation({ trtVersion, device }) {
  return {
    trtMajor: Number(trtVersion.split(".")[0]),
    trtVersion: () => trtVersion,
    compiledTrtVersion: () => trtVersion,
    devices: () => [device],
    loadEngine(bytes, deviceId = 0) {
      const plan = parsePlan(bytes);
      if (plan.version !== trtVersion) throw Object.assign(new Error(`plan for TensorRT ${plan.version}`), { code: "ENGINE_LOAD_FAILED" });
      const inputs = plan.io.filter((t) => t.mode === "input");
      const outputs = plan.io.filter((t) => t.mode === "output");
      let disposed = false;
      const publicIo = plan.io.map(({ shapeText, ...t }) => ({ ...t, shape: shapeText.map((d) => (d.startsWith("@") ? -1 : Number(d))) }));
      return {
        deviceId,
        get disposed() {
          return disposed;
        },
        ioTensors: () => publicIo,
        dispose() {
          disposed = true;
        },
        async run(feeds) {
          if (disposed) throw Object.assign(new Error("engine disposed"), { code: "ENGINE_DISPOSED" });
          for (const t of inputs) {
            const shape = feeds[t.name]?.shape;
            if (shape === undefined || shape.some((d, i) => d < t.profile.min[i] || d > t.profile.max[i])) {
              throw Object.assign(new Error(`${t.name} shape ${shape} outside the optimization profile`), { code: "INPUT_MISMATCH" });
            }
          }
          const batch = feeds[inputs[0].name].shape[0];
          const sums = rowChecksums(
            inputs.map((t) => ({ data: feeds[t.name].data, rowLength: feeds[t.name].shape.slice(1).reduce((a, b) => a * b, 1) })),
            batch,
          );
          const results = {};
          outputs.forEach((t, o) => {
            const shape = t.shapeText.map((d) => {
              if (!d.startsWith("@")) return Number(d);
              const [i, dim] = d.slice(1).split(".").map(Number);
              return feeds[inputs[i].name].shape[dim];
            });
            const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
            const data = new Float32Array(batch * rowLength);
            for (let b = 0; b < batch; b++) for (let k = 0; k < rowLength; k++) data[b * rowLength + k] = stubValue(sums[b], k, o);
            results[t.name] = { data, shape };
          });
          return results;
        },
      };
    },
  };
}
