import type { Server } from "node:http";
import { silentLogger, type Logger } from "@trtforge/core";
import { maxTextBytes } from "@trtforge/runtime";
import type { EndpointSet } from "./endpoint.js";
import { createFront, type Front } from "./http/front.js";
import { closeServer, listen, urlOf } from "./http/listen.js";
import { createMetricsServer } from "./http/metrics-server.js";
import { handleModelCall } from "./http/routes.js";
import { FrontMetrics } from "./metrics/front-metrics.js";
import type { GpuSampler } from "./metrics/gpu-sampler.js";
import type { WorkerMetrics } from "./metrics/worker-metrics.js";

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface InProcessServerOptions {
  endpoints: EndpointSet;
  /** The metrics the endpoints' runtime reports batches into, merged into /metrics. */
  workerMetrics?: WorkerMetrics;
  host?: string;
  httpPort?: number;
  metricsPort?: number;
  maxBodyBytes?: number;
  /** See FrontOptions: header and body timeouts (default 30 s each). */
  headerTimeoutMs?: number;
  bodyTimeoutMs?: number;
  serverVersion?: string;
  gpuSampler?: GpuSampler;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * The protocol over HTTP for endpoints of this process, no workers: what the protocol tests and
 * a worker-less embedding use. `startServer` puts the same front before worker processes.
 */
export async function startInProcessServer(options: InProcessServerOptions): Promise<RunningServer & { front: Front }> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? silentLogger();
  const metrics = new FrontMetrics(options.gpuSampler);
  for (const endpoint of options.endpoints.list()) metrics.modelLoaded(endpoint.agent, endpoint.current().version);
  const workerMetrics = async () => (options.workerMetrics === undefined ? [] : [await options.workerMetrics.registry.getMetricsAsJSON()]);
  const front = createFront({
    dispatcher: {
      ready: () => true,
      models: () => options.endpoints.list().map((endpoint) => ({ name: endpoint.agent, ready: true })),
      handleModelCall: (call) => handleModelCall(options.endpoints, call, options.workerMetrics),
      textLimitBytes: (model) => {
        const endpoint = options.endpoints.get(model);
        return endpoint === undefined ? undefined : maxTextBytes(endpoint.current().profile);
      },
    },
    metrics,
    workerMetrics,
    logger,
    serverVersion: options.serverVersion ?? "0.1.0",
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(options.headerTimeoutMs === undefined ? {} : { headerTimeoutMs: options.headerTimeoutMs }),
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
  });
  const metricsServer: Server = createMetricsServer(async () => metrics.scrape(await workerMetrics()), logger);
  const httpPort = await listen(front.server, host, options.httpPort ?? 0, "inference requests");
  const metricsPort = await listen(metricsServer, host, options.metricsPort ?? 0, "metrics").catch(async (err: unknown) => {
    await closeServer(front.server);
    throw err;
  });
  return {
    url: urlOf(host, httpPort),
    metricsUrl: `${urlOf(host, metricsPort)}/metrics`,
    front,
    close: async () => {
      front.stopAccepting();
      await Promise.all([closeServer(front.server), closeServer(metricsServer)]);
    },
  };
}
