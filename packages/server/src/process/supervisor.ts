import { existsSync } from "node:fs";
import { loadDeviceMap, defaultDeviceMapPath, type DeviceMap } from "@trtforge/config";
import { ForgeError, silentLogger, type Logger } from "@trtforge/core";
import { createFront, type ModelDispatcher } from "../http/front.js";
import { closeServer, listen, urlOf } from "../http/listen.js";
import { createMetricsServer } from "../http/metrics-server.js";
import { errorReply, modelOfPath, parseModelPath, type HttpCall, type HttpReply } from "../http/routes.js";
import { DEFAULT_MAX_BODY_BYTES, type RunningServer } from "../in-process.js";
import { FrontMetrics } from "../metrics/front-metrics.js";
import { createNvmlSampler } from "@trtforge/gpu-metrics";
import type { OnnxVariant } from "@trtforge/runtime";
import type { GpuSampler } from "../metrics/gpu-sampler.js";
import { withInstances } from "../protocol/model-config.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { engineNamesOf } from "./engine-names.js";
import { hostGpus } from "./gpu-count.js";
import { checkCandidates, type CandidateRef, type ShadowRef } from "../rollout/candidate-ref.js";
import { SHADOW_INTRA_OP_THREADS } from "./lowest-priority.js";
import type { ShadowReply } from "./messages.js";
import { formatModelRef, parseModelRef, type ModelRef } from "./model-ref.js";
import { planWorkers } from "./plan.js";
import { DEFAULT_RESTART_POLICY, WorkerHandle, type RestartPolicy } from "./worker-handle.js";

/** How long a shadow worker may finish its runs at shutdown before it is killed. */
const SHADOW_STOP_DEADLINE_MS = 2000;

export interface ServeOptions {
  storeRoot: string;
  /** `agent` (follows current, hot swaps) or `agent@version` (pinned). */
  models: readonly (string | ModelRef)[];
  /**
   * Canary (a share of an agent's requests) and shadow (every request, after the primary's answer)
   * versions (parseCanaryRef / parseShadowRef); each opened pinned and verified like the primary.
   */
  candidates?: readonly CandidateRef[];
  /** Engine-to-GPU map; default conf/engine_device_map.yaml where it exists. Used only with GPUs. */
  deviceMap?: string;
  host?: string;
  /** 0 picks a free port (tests, scripts). Defaults 8000 and 8002, as Triton's. */
  httpPort?: number;
  metricsPort?: number;
  /** Workers when no GPU can be used. Default 1. */
  cpuWorkers?: number;
  /** GPUs to use; default: as many as the GPU sampler (default: NVML) reports, else the CUDA devices the TensorRT addon sees, else 0. */
  gpuCount?: number;
  gpuSampler?: GpuSampler;
  maxQueue?: number;
  maxQueueDelayMs?: number;
  /**
   * ONNX Runtime intra-op threads of each primary worker's sessions; default by the host's cores
   * (ortThreading of @trtforge/runtime). Its pool spins only when 2 cores stay free beside it.
   */
  ortThreads?: number;
  requireTensorrt?: boolean;
  /** Which ONNX the ONNX Runtime fallback serves: auto (CPU-serving, else Q/DQ int8, else fp32), fp32, int8 or cpu. */
  onnxVariant?: OnnxVariant;
  /** Refuse to serve any model on the CPU: on a GPU worker ONNX Runtime's CUDA provider must load; without a GPU nothing serves. */
  requireGpu?: boolean;
  maxBodyBytes?: number;
  /** Headers not complete this long after a request starts: 408 and the connection closed. Default 30 s. */
  headerTimeoutMs?: number;
  /** A request body that sends nothing this long: 408 with a JSON error, connection closed. Default 30 s. */
  bodyTimeoutMs?: number;
  /** How long close() lets in-flight requests finish before workers are killed. Default 30 s. */
  drainTimeoutMs?: number;
  restartPolicy?: RestartPolicy;
  /** Module exporting `openModels` for the workers; default the runtime binding. */
  runtimeModule?: string;
  serverVersion?: string;
  logger?: Logger;
  /** Worker log settings (they log to the same stderr). */
  logLevel?: string;
  jsonLogs?: boolean;
}

export interface WorkerStatus {
  name: string;
  /** primary: serves clients; shadow: runs a shadow candidate at nice 19. */
  role: "primary" | "shadow";
  gpu: number | undefined;
  pid: number | undefined;
  ready: boolean;
  models: string[];
}

export interface ServingServer extends RunningServer {
  workers(): WorkerStatus[];
}

/**
 * serve-engine as a library: the supervisor owns the public and metrics ports, starts one worker
 * process per GPU (or --cpu-workers on the fallback), and routes each model call to a ready
 * worker holding the model over IPC. Resolves once every worker has loaded and warmed up its
 * models. close() stops accepting, lets requests in flight finish (up to drainTimeoutMs), drains
 * and disposes every worker, and releases the ports.
 */
export async function startServer(options: ServeOptions): Promise<ServingServer> {
  const logger = options.logger ?? silentLogger();
  const host = options.host ?? "127.0.0.1";
  const models = options.models.map((model) => (typeof model === "string" ? parseModelRef(model) : model));
  if (models.length === 0)
    throw new ForgeError("INVALID_LIMIT", "no model to serve", {
      input: "models",
      fix: "name at least one store agent (--model <agent>[@<version>])",
    });
  const duplicate = models.find((model, index) => models.findIndex((other) => other.agent === model.agent) !== index);
  if (duplicate !== undefined)
    throw new ForgeError("INVALID_NAME", `agent "${duplicate.agent}" is named twice`, {
      input: formatModelRef(duplicate),
      fix: "serve each agent once",
    });
  for (const [name, value] of [
    ["headerTimeoutMs", options.headerTimeoutMs],
    ["bodyTimeoutMs", options.bodyTimeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      throw new ForgeError("INVALID_LIMIT", `${name} must be a positive number of milliseconds, got ${value}`, {
        input: name,
        fix: "pass 1 or more (the default is 30000)",
      });
  }
  const candidates = [...(options.candidates ?? [])];
  checkCandidates(
    candidates,
    models.map((model) => model.agent),
  );
  if (options.ortThreads !== undefined && (!Number.isInteger(options.ortThreads) || options.ortThreads < 1))
    throw new ForgeError("INVALID_LIMIT", `ONNX Runtime threads must be a positive integer, got ${options.ortThreads}`, {
      input: "ortThreads",
      fix: "pass --ort-threads 1 or more, or leave it out for the default by the host's cores",
    });
  const cpuWorkers = options.cpuWorkers ?? 1;
  if (!Number.isInteger(cpuWorkers) || cpuWorkers < 1)
    throw new ForgeError("INVALID_LIMIT", `cpu workers must be a positive integer, got ${cpuWorkers}`, {
      input: "cpuWorkers",
      fix: "pass 1 or more",
    });

  // The driver's own figures where it is installed; on a host without one the sampler says null.
  const gpuSampler = options.gpuSampler ?? createNvmlSampler();
  // One sample: the count and, for pinning by UUID (the same GPU as nvidia-smi's index whatever
  // order CUDA enumerates in), the UUIDs. An explicit gpuCount of 0 needs neither.
  const gpus = options.gpuCount === 0 ? { count: 0, uuids: undefined } : await hostGpus(gpuSampler);
  const gpuCount = options.gpuCount ?? gpus.count;
  let deviceMap: DeviceMap | undefined;
  if (gpuCount > 0) {
    const path = options.deviceMap ?? (existsSync(defaultDeviceMapPath()) ? defaultDeviceMapPath() : undefined);
    deviceMap = path === undefined ? undefined : await loadDeviceMap(path, { gpuCount });
  }
  const plans = planWorkers({
    models,
    gpuCount,
    cpuWorkers,
    deviceMap,
    ...(gpus.uuids === undefined ? {} : { gpuUuids: gpus.uuids }),
    engineNames: gpuCount > 0 ? await engineNamesOf(options.storeRoot, models) : new Map(),
  });

  const metrics = new FrontMetrics(gpuSampler);
  /**
   * Each agent's text byte limit per worker, as the worker last reported it (at ready and after
   * each hot swap): the front bounds by the largest, since workers can swap a moment apart and each
   * worker's admission bounds again by its own version's limit.
   */
  const textLimits = new Map<string, Map<string, number>>();
  metrics.watchWorkers(() => handles.map((handle) => ({ name: handle.name, ready: handle.isReady() })));
  const shadows = candidates.filter((candidate): candidate is ShadowRef => candidate.role === "shadow");
  /** Agents whose shadow is gone (not opened, or its worker exited): primaries started later leave it out. */
  const droppedShadows = new Set<string>();
  const workerConfig = {
    storeRoot: options.storeRoot,
    // A getter: each (re)started primary reads the candidates still in the rotation.
    get candidates() {
      return candidates.filter((candidate) => candidate.role !== "shadow" || !droppedShadows.has(candidate.agent));
    },
    maxQueue: options.maxQueue,
    maxQueueDelayMs: options.maxQueueDelayMs,
    ...(options.ortThreads === undefined ? {} : { intraOpNumThreads: options.ortThreads }),
    requireTensorrt: options.requireTensorrt ?? false,
    onnxVariant: options.onnxVariant ?? "auto",
    requireGpu: options.requireGpu ?? false,
    runtimeModule: options.runtimeModule,
    logLevel: options.logLevel ?? process.env.LOG_LEVEL ?? "info",
    jsonLogs: options.jsonLogs ?? !process.stderr.isTTY,
  };
  const handles = plans.map(
    (plan) =>
      new WorkerHandle(
        plan,
        workerConfig,
        logger,
        options.restartPolicy ?? DEFAULT_RESTART_POLICY,
        (worker) => metrics.workerRestarted(worker),
        (served) => {
          for (const { agent, version, maxTextBytes } of served) {
            metrics.modelLoaded(agent, version);
            // A worker of a runtime module that reports none leaves the default bound in place.
            if (!Number.isInteger(maxTextBytes) || maxTextBytes < 1) continue;
            const byWorker = textLimits.get(agent) ?? new Map<string, number>();
            textLimits.set(agent, byWorker.set(plan.name, maxTextBytes));
          }
        },
        { onShadowRun: (agent, call) => runShadow(agent, call) },
      ),
  );

  /** Tells the primaries that an agent's shadow is gone; their rollouts report and drop it. */
  const dropShadow = (ref: ShadowRef, stage: "load" | "exit", reason: string): void => {
    if (droppedShadows.has(ref.agent)) return;
    droppedShadows.add(ref.agent);
    for (const handle of handles) {
      if (handle.holds(ref.agent)) handle.notify({ type: "shadow-dropped", agent: ref.agent, stage, reason });
    }
  };
  // One shadow worker per shadow candidate, on the GPU of its agent's first primary (a TensorRT
  // candidate needs one), never restarted: it exits, it is dropped.
  const shadowHandles = new Map(
    shadows.map((ref) => {
      const home = plans.find((plan) => plan.models.some((model) => model.agent === ref.agent));
      const plan = {
        name: `shadow-${ref.agent}`,
        gpu: home?.gpu,
        ...(home?.gpuUuid === undefined ? {} : { gpuUuid: home.gpuUuid }),
        models: [{ agent: ref.agent, version: ref.version }],
      };
      const handle = new WorkerHandle(
        plan,
        { ...workerConfig, candidates: [], intraOpNumThreads: SHADOW_INTRA_OP_THREADS },
        logger,
        options.restartPolicy ?? DEFAULT_RESTART_POLICY,
        () => {},
        () => {},
        { role: "shadow", onGone: (how) => dropShadow(ref, "exit", `the shadow worker exited (${how})`) },
      );
      return [ref.agent, { ref, handle }] as const;
    }),
  );
  const runShadow = (agent: string, call: Parameters<WorkerHandle["runShadow"]>[1]): Promise<ShadowReply> => {
    const shadow = shadowHandles.get(agent);
    if (shadow === undefined || droppedShadows.has(agent))
      return Promise.resolve({ outcome: "failed", reason: "not_ready", message: `agent "${agent}" has no shadow serving` });
    return shadow.handle.runShadow(agent, call);
  };
  /** Starts a shadow worker; one that cannot open its candidate is reported, and the primaries serve alone. */
  const startShadow = async ({ ref, handle }: { ref: ShadowRef; handle: WorkerHandle }): Promise<void> => {
    try {
      await handle.start();
    } catch (err) {
      const message = (err as Error).message;
      logger.error(
        { agent: ref.agent, version: ref.version, role: "shadow", err: message },
        "shadow candidate could not be opened; the primary serves alone",
      );
      // A primary still starting is told too: its worker keeps the news until its models are open.
      dropShadow(ref, "load", message);
    }
  };

  let turn = 0;
  const dispatcher: ModelDispatcher = {
    ready: () => models.every((model) => handles.some((handle) => handle.holds(model.agent) && handle.isReady())),
    models: () =>
      models.map((model) => ({
        name: model.agent,
        ready: handles.some((handle) => handle.holds(model.agent) && handle.isReady()),
      })),
    textLimitBytes: (agent) => {
      const byWorker = textLimits.get(agent);
      return byWorker === undefined ? undefined : Math.max(...byWorker.values());
    },
    handleModelCall: (call: HttpCall): Promise<HttpReply> => {
      const agent = modelOfPath(call.path) ?? "";
      const holders = handles.filter((handle) => handle.holds(agent));
      const isInfer = call.path.endsWith("/infer");
      if (holders.length === 0) {
        const error = new ProtocolError(
          "not_found",
          `unknown model "${agent}"; this server serves ${models.map((model) => model.agent).join(", ")}`,
        );
        return Promise.resolve(errorReply(error, { ...(isInfer ? { infer: { ok: false, reason: error.reason } } : {}) }));
      }
      const ready = holders.filter((handle) => handle.isReady());
      const chosen = ready.length === 0 ? holders[0] : ready[turn++ % ready.length];
      const reply = (chosen ?? holders[0]!).call(call);
      if (parseModelPath(call.path)?.action !== "config") return reply;
      // A worker knows only itself: the configuration's instance_group counts every worker holding the model.
      return reply.then((answer) =>
        answer.status === 200
          ? {
              ...answer,
              body: withInstances(
                answer.body,
                agent,
                holders.map((handle) => handle.plan),
              ),
            }
          : answer,
      );
    },
  };

  const workerMetrics = async () => (await Promise.all(handles.map((handle) => handle.metrics()))).filter((values) => values !== undefined);
  const front = createFront({
    dispatcher,
    metrics,
    workerMetrics,
    logger,
    serverVersion: options.serverVersion ?? "0.1.0",
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(options.headerTimeoutMs === undefined ? {} : { headerTimeoutMs: options.headerTimeoutMs }),
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
  });
  const metricsServer = createMetricsServer(async () => metrics.scrape(await workerMetrics()), logger);

  const stopWorkers = (deadlineMs: number): Promise<void[]> => Promise.all(handles.map((handle) => handle.stop(deadlineMs)));
  // Shadow work is abandoned at shutdown, not waited for: a short drain, then SIGKILL, beside the primaries'.
  const stopShadows = (): Promise<void[]> =>
    Promise.all([...shadowHandles.values()].map(({ handle }) => handle.stop(SHADOW_STOP_DEADLINE_MS)));
  const httpPort = await listen(front.server, host, options.httpPort ?? 8000, "inference requests");
  let metricsPort: number;
  try {
    metricsPort = await listen(metricsServer, host, options.metricsPort ?? 8002, "metrics");
    logger.info(
      { workers: plans.map((plan) => ({ name: plan.name, gpu: plan.gpu, models: plan.models.map(formatModelRef) })) },
      "starting workers",
    );
    await Promise.all([...handles.map((handle) => handle.start()), ...[...shadowHandles.values()].map(startShadow)]);
  } catch (err) {
    front.stopAccepting();
    await Promise.all([stopWorkers(5000), stopShadows(), closeServer(front.server), closeServer(metricsServer).catch(() => {})]);
    throw err;
  }
  const url = urlOf(host, httpPort);
  logger.info({ url, metrics: `${urlOf(host, metricsPort)}/metrics` }, "serving");

  let closing: Promise<void> | undefined;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  return {
    url,
    metricsUrl: `${urlOf(host, metricsPort)}/metrics`,
    workers: () =>
      [...handles, ...[...shadowHandles.values()].map(({ handle }) => handle)].map((handle) => ({
        name: handle.name,
        role: handle.role,
        gpu: handle.plan.gpu,
        pid: handle.pid,
        ready: handle.isReady(),
        models: handle.plan.models.map(formatModelRef),
      })),
    close: () =>
      (closing ??= (async () => {
        const deadline = Date.now() + drainTimeoutMs;
        front.stopAccepting();
        const closed = closeServer(front.server);
        const shadowsStopped = stopShadows();
        while (front.inFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        await Promise.all([stopWorkers(Math.max(1000, deadline - Date.now())), shadowsStopped]);
        front.server.closeAllConnections();
        await Promise.all([closed, closeServer(metricsServer)]);
        logger.info("stopped");
      })()),
  };
}
