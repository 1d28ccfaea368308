/**
 * A worker process: opens its models (on the GPU CUDA_VISIBLE_DEVICES leaves it, or on the
 * fallback; the runtime module warms each one up before it returns it), then answers the supervisor's model calls over IPC with the same
 * protocol routes the in-process server uses. It dies with its supervisor (IPC disconnect).
 */
import { createLogger, toForgeError, type Logger } from "@trtforge/core";
import { endpointSet, type EndpointSet } from "../endpoint.js";
import { handleModelCall } from "../http/routes.js";
import { WorkerMetrics } from "../metrics/worker-metrics.js";
import { servedSummary, type FromWorker, type ToWorker, type WorkerConfig } from "./messages.js";
import type { OpenedModels, OpenModels } from "./runtime-module.js";

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
  }
});

async function init(config: WorkerConfig): Promise<void> {
  logger = createLogger({ name: `serve-engine:${config.name}`, level: config.logLevel, json: config.jsonLogs });
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
      metrics,
      logger,
      onSwap: (model) => send({ type: "serving", served: servedSummary(model) }),
    });
    endpoints = endpointSet(opened.endpoints);
    const served = opened.endpoints.map((endpoint) => servedSummary(endpoint.current()));
    logger.info({ served, gpu: process.env.CUDA_VISIBLE_DEVICES }, "worker ready");
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
