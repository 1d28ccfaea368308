/**
 * A worker process: opens its models (on the GPU CUDA_VISIBLE_DEVICES leaves it, or on the
 * fallback; the runtime module warms each one up before it returns it), then answers the supervisor's model calls over IPC with the same
 * protocol routes the in-process server uses. It dies with its supervisor (IPC disconnect).
 * Started by shadow-worker-main.ts (at nice 19 before this module loads), it is the shadow worker
 * instead: it opens one shadow candidate and runs the calls the primaries answered ("shadow-run").
 */
import { createLogger, toForgeError, type Logger } from "@trtforge/core";
import { endpointSet, type EndpointSet } from "../endpoint.js";
import { handleModelCall } from "../http/routes.js";
import { WorkerMetrics } from "../metrics/worker-metrics.js";
import { runInfer } from "../protocol/infer.js";
import type { InferCall } from "../protocol/infer-request.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import type { ShadowRef } from "../rollout/candidate-ref.js";
import type { ShadowTarget } from "../rollout/rollout.js";
import { servedSummary, type FromWorker, type ShadowReply, type ToWorker, type WorkerConfig } from "./messages.js";
import type { ModelEndpoint } from "../endpoint.js";
import type { OpenedModels, OpenModels } from "./runtime-module.js";
import { loweredPriority } from "./lowest-priority.js";
import type { WorkerRole } from "./messages.js";

const role: WorkerRole = loweredPriority() === undefined ? "primary" : "shadow";

const send = (message: FromWorker): void => {
  process.send?.(message);
};

let opened: OpenedModels | undefined;
let endpoints: EndpointSet | undefined;
let logger: Logger | undefined;
const metrics = new WorkerMetrics();
let calls = 0;
let draining: Promise<void> | undefined;

// Signals to the process group (Ctrl-C) are the supervisor's to act on: it drains the workers.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
process.on("disconnect", () => process.exit());

process.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "init":
      void init(message.config);
      break;
    case "call":
      void call(message.id, message.call);
      break;
    case "metrics":
      void metrics.registry.getMetricsAsJSON().then((values) => send({ type: "metrics", id: message.id, metrics: values }));
      break;
    case "drain":
      draining ??= drain();
      break;
    case "shadow-run":
      void shadowRun(message.id, message.agent, message.call);
      break;
    case "shadow-result":
      shadowRuns.get(message.id)?.(message.reply);
      shadowRuns.delete(message.id);
      break;
    case "shadow-dropped":
      // Before the models are open it waits: the rollout it concerns does not exist yet.
      if (endpoints === undefined) shadowsDroppedEarly.push(message);
      else endpoints.get(message.agent)?.rollout?.shadowGone(message.stage, message.reason);
      break;
  }
});

const shadowsDroppedEarly: Extract<ToWorker, { type: "shadow-dropped" }>[] = [];

/** A primary's shadow runs waiting for the shadow worker's answer, by id. */
const shadowRuns = new Map<number, (reply: ShadowReply) => void>();
let nextShadowRun = 1;

/** A primary's way to its agent's shadow candidate: through the supervisor to the shadow worker. */
function remoteShadow(ref: ShadowRef, primary: ModelEndpoint): ShadowTarget {
  return {
    version: ref.version,
    kind: primary.current().kind,
    run: (call: InferCall) =>
      new Promise((resolve, reject) => {
        const id = nextShadowRun++;
        shadowRuns.set(id, (reply) => {
          if (reply.outcome === "failed") reject(new ProtocolError(reply.reason, reply.message));
          else resolve(reply.outcome === "shed" ? "shed" : reply.outputs);
        });
        process.send?.({ type: "shadow", id, agent: ref.agent, call } satisfies FromWorker, undefined, {}, (err) => {
          if (err === null || !shadowRuns.has(id)) return;
          shadowRuns.delete(id);
          reject(new ProtocolError("worker_exited", `the supervisor could not take the shadow run: ${err.message}`));
        });
      }),
  };
}

/** The shadow worker: one shadow run, its candidate's every output back to the supervisor. */
async function shadowRun(id: number, agent: string, call: InferCall): Promise<void> {
  calls += 1;
  let reply: ShadowReply;
  try {
    const endpoint = endpoints?.get(agent);
    if (endpoint === undefined) throw new ProtocolError("not_ready", `the shadow worker does not hold "${agent}"`);
    reply = { outcome: "ran", outputs: (await runInfer(endpoint, call, undefined, { allOutputs: true })).all };
  } catch (err) {
    reply =
      err instanceof ProtocolError
        ? { outcome: "failed", reason: err.reason, message: err.message }
        : { outcome: "failed", reason: "internal", message: (err as Error).message };
  } finally {
    calls -= 1;
  }
  send({ type: "shadow-result", id, reply });
}

async function init(config: WorkerConfig): Promise<void> {
  logger = createLogger({ name: `serve-engine:${config.name}`, level: config.logLevel, json: config.jsonLogs });
  const priorityFailure = loweredPriority()?.failure;
  if (priorityFailure !== undefined)
    logger.warn({ err: priorityFailure }, "the shadow worker could not lower its CPU priority to nice 19; it runs at normal priority");
  try {
    const module = (await import(config.runtimeModule ?? "./runtime-binding.js")) as { openModels: OpenModels };
    opened = await module.openModels({
      storeRoot: config.storeRoot,
      models: config.models,
      candidates: config.candidates,
      maxQueue: config.maxQueue,
      maxQueueDelayMs: config.maxQueueDelayMs,
      requireTensorrt: config.requireTensorrt,
      onnxVariant: config.onnxVariant,
      requireGpu: config.requireGpu,
      gpu: config.gpu,
      ...(config.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: config.intraOpNumThreads }),
      ...(role === "primary" ? { shadowTarget: remoteShadow } : {}),
      metrics,
      logger,
      onSwap: (model) => send({ type: "serving", served: servedSummary(model) }),
    });
    endpoints = endpointSet(opened.endpoints);
    for (const { agent, stage, reason } of shadowsDroppedEarly.splice(0)) endpoints.get(agent)?.rollout?.shadowGone(stage, reason);
    const served = opened.endpoints.map((endpoint) => servedSummary(endpoint.current()));
    logger.info({ served, gpu: process.env.CUDA_VISIBLE_DEVICES }, "worker ready");
    if (role === "shadow") {
      for (const { agent, version } of served)
        logger.info({ agent, version, role: "shadow", pid: process.pid }, "shadow candidate serving");
    }
    send({ type: "ready", served });
  } catch (err) {
    const error = toForgeError(err);
    logger.error({ code: error.code, err: error.message }, "worker could not open its models");
    send({ type: "failed", code: error.code, message: error.message, fix: error.fix });
    await opened?.close().catch(() => {});
    process.exitCode = 1;
    process.disconnect?.();
  }
}

async function call(id: number, httpCall: Extract<ToWorker, { type: "call" }>["call"]): Promise<void> {
  calls += 1;
  try {
    if (endpoints === undefined) throw new Error("the worker has not opened its models");
    const body = Buffer.from(httpCall.body.buffer, httpCall.body.byteOffset, httpCall.body.byteLength);
    const reply = await handleModelCall(endpoints, { ...httpCall, body }, metrics);
    send({ type: "reply", id, reply });
  } catch (err) {
    logger?.error({ err }, "model call failed");
    const body = Buffer.from(JSON.stringify({ error: `worker failed: ${(err as Error).message}` }));
    send({
      type: "reply",
      id,
      reply: { status: 500, headers: { "content-type": "application/json" }, body, infer: { ok: false, reason: "internal" } },
    });
  } finally {
    calls -= 1;
  }
}

/** Finishes the calls in flight (the batchers drain), disposes every version, then exits 0. */
async function drain(): Promise<void> {
  while (calls > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  try {
    await opened?.close();
  } catch (err) {
    logger?.error({ err }, "disposing models failed");
  }
  send({ type: "drained" });
  process.disconnect?.();
}
