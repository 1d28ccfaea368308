import { compareTrtVersions, parseTrtVersion, trtVersionsAgree, type HardwareCompatibilityLevel } from "@trtforge/engine-format";

/**
 * Cross-major pairs that NVIDIA documents for version-compatible engines (built with
 * kVERSION_COMPATIBLE): 8.6 plans on a 10.x runtime and 10.x plans on an 11.x runtime.
 */
const VERSION_COMPATIBLE_CROSS_MAJOR: ReadonlyArray<readonly [number, number]> = [
  [8, 10],
  [10, 11],
];

export type CompatVerdict = { ok: true; detail: string } | { ok: false; detail: string };

export function trtRuntimeVerdict(engineVersion: string, runtimeVersion: string, versionCompatible: boolean): CompatVerdict {
  const engine = parseTrtVersion(engineVersion);
  const runtime = parseTrtVersion(runtimeVersion);
  if (!engine || !runtime) return { ok: false, detail: `cannot compare TensorRT versions "${engineVersion}" and "${runtimeVersion}"` };
  if (!versionCompatible) {
    return trtVersionsAgree(engine, runtime)
      ? { ok: true, detail: `runtime TensorRT ${runtimeVersion} matches the engine's ${engineVersion}` }
      : {
          ok: false,
          detail: `engine built with TensorRT ${engineVersion} cannot load on TensorRT ${runtimeVersion}: without version compatibility the versions must match; rebuild on the runtime's TensorRT or build with --version-compatible`,
        };
  }
  const majorAllowed =
    engine.major === runtime.major || VERSION_COMPATIBLE_CROSS_MAJOR.some(([from, to]) => from === engine.major && to === runtime.major);
  if (majorAllowed && compareTrtVersions(runtime, engine) >= 0) {
    return { ok: true, detail: `version-compatible engine from TensorRT ${engineVersion} runs on TensorRT ${runtimeVersion}` };
  }
  return {
    ok: false,
    detail: `version-compatible engine from TensorRT ${engineVersion} needs a runtime of the same major or the next supported one, not older than the engine; ${runtimeVersion} is not`,
  };
}

function parseCc(text: string): [number, number] | undefined {
  const m = /^(\d{1,2})\.(\d{1,2})$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function computeCapabilityVerdict(engineCc: string, runtimeCc: string, level: HardwareCompatibilityLevel): CompatVerdict {
  const engine = parseCc(engineCc);
  const runtime = parseCc(runtimeCc);
  if (!engine || !runtime) return { ok: false, detail: `cannot compare compute capabilities "${engineCc}" and "${runtimeCc}"` };
  if (level === "ampere_plus") {
    return runtime[0] >= 8
      ? { ok: true, detail: `hardware-compatible (Ampere+) engine runs on compute capability ${runtimeCc}` }
      : {
          ok: false,
          detail: `hardware-compatible (Ampere+) engine needs compute capability 8.0 or newer, the runtime GPU has ${runtimeCc}`,
        };
  }
  const same = engine[0] === runtime[0] && engine[1] === runtime[1];
  return same
    ? { ok: true, detail: `runtime compute capability ${runtimeCc} matches the engine's` }
    : {
        ok: false,
        detail: `engine built for compute capability ${engineCc} cannot run on ${runtimeCc}; rebuild on that GPU, or build with --hardware-compatibility ampere_plus for Ampere and newer`,
      };
}

/**
 * Whether a TensorRT-RTX plan runs on a GPU: only on the compute capabilities it was compiled for
 * (TensorRT-RTX has no Hopper or data-centre Blackwell target, so 9.0 and 10.0 never run).
 */
export function rtxComputeCapabilityVerdict(targets: readonly string[], runtimeCc: string): CompatVerdict {
  if (!parseCc(runtimeCc)) return { ok: false, detail: `cannot read compute capability "${runtimeCc}"` };
  return targets.includes(runtimeCc)
    ? { ok: true, detail: `TensorRT-RTX plan targets compute capability ${runtimeCc} (targets: ${targets.join(" ")})` }
    : {
        ok: false,
        detail: `TensorRT-RTX plan cannot run on compute capability ${runtimeCc}: it was compiled for ${targets.join(" ")} only; rebuild with --compute-capability ${runtimeCc.replace(".", "")} if TensorRT-RTX supports it, or serve it with ONNX Runtime`,
      };
}

/** TensorRT-RTX plans load only on the TensorRT-RTX runtime of the same version (no version compatibility). */
export function rtxRuntimeVerdict(engineVersion: string, runtime: { trtVersion?: string; trtRtxVersion?: string }): CompatVerdict {
  if (runtime.trtRtxVersion === undefined) {
    return {
      ok: false,
      detail: `a TensorRT-RTX ${engineVersion} plan loads only on the TensorRT-RTX runtime${runtime.trtVersion === undefined ? "" : `, not on TensorRT ${runtime.trtVersion}`}`,
    };
  }
  const engine = parseTrtVersion(engineVersion);
  const rt = parseTrtVersion(runtime.trtRtxVersion);
  if (!engine || !rt)
    return { ok: false, detail: `cannot compare TensorRT-RTX versions "${engineVersion}" and "${runtime.trtRtxVersion}"` };
  return trtVersionsAgree(engine, rt)
    ? { ok: true, detail: `runtime TensorRT-RTX ${runtime.trtRtxVersion} matches the plan's ${engineVersion}` }
    : {
        ok: false,
        detail: `TensorRT-RTX ${engineVersion} plan cannot load on TensorRT-RTX ${runtime.trtRtxVersion}: rebuild with the runtime's version`,
      };
}
