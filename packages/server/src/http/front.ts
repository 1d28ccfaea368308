import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@trtforge/core";
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { FrontMetrics } from "../metrics/front-metrics.js";
import { serverMetadata } from "../protocol/metadata.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { repositoryCall } from "./repository.js";
import { modelStatistics } from "../protocol/statistics.js";
import { readBody } from "./read-body.js";
import { ALL_STATS_PATH, errorReply, jsonReply, methodNotAllowed, parseModelPath, type HttpCall, type HttpReply } from "./routes.js";

/** How long the rest of an oversized body may take to arrive (and be dropped) before the connection is cut. */
const BODY_DISCARD_MS = 30_000;

/** Where model requests go: the endpoints of this process, or the workers behind a supervisor. */
export interface ModelDispatcher {
  /** Every configured model has a version loaded and warmed up. */
  ready(): boolean;
  /** The configured models, and whether each has a ready worker (the repository index). */
  models(): { name: string; ready: boolean }[];
  handleModelCall(call: HttpCall): Promise<HttpReply>;
}

export interface FrontOptions {
  dispatcher: ModelDispatcher;
  metrics: FrontMetrics;
  /** The registries of whatever runs the models (workers), for the statistics extension. */
  workerMetrics: () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
  logger: Logger;
  serverVersion: string;
  maxBodyBytes: number;
}

export interface Front {
  server: Server;
  /** Stops taking new requests; requests that still arrive on open connections get 503. */
  stopAccepting(): void;
  /** Requests received and not answered yet. */
  inFlight(): number;
}

export function createFront(options: FrontOptions): Front {
  let accepting = true;
  let inFlight = 0;
  const server = createServer((request, response) => {
    inFlight += 1;
    response.on("close", () => {
      inFlight -= 1;
    });
    handle(request, response).catch((err: unknown) => {
      options.logger.error({ err }, "request handler failed");
      if (!response.headersSent) send(response, errorReply(new ProtocolError("internal", `internal error: ${(err as Error).message}`)));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const route = parseModelPath(path);
    const model = route?.model ?? "";
    const isInfer = route?.action === "infer";
    if (!accepting) {
      response.setHeader("connection", "close");
      const error = new ProtocolError("shutting_down", "the server is shutting down; send the request to another instance");
      if (isInfer) options.metrics.requestRejected(model, error.reason);
      request.resume();
      send(response, errorReply(error));
      return;
    }
    const body = await readBody(request, options.maxBodyBytes);
    if (!body.ok) {
      if (!body.tooLarge) return;
      const error = new ProtocolError(
        "payload_too_large",
        `the request body (${body.received} bytes or more) is over the server's limit of ${options.maxBodyBytes} bytes; send fewer rows per request`,
      );
      if (isInfer) options.metrics.requestRejected(model, error.reason);
      // Answer now; the rest of the body is read and dropped as it arrives, never kept. Closing
      // the socket instead would reset the connection under a client still sending, and a reset
      // can destroy the 413 before the client reads it. A body that never ends is cut off.
      request.resume();
      const cutOff = setTimeout(() => request.socket.destroy(), BODY_DISCARD_MS);
      request.once("end", () => clearTimeout(cutOff));
      request.once("close", () => clearTimeout(cutOff));
      send(response, errorReply(error));
      return;
    }
    const call: HttpCall = { method, path, headers: request.headers, body: body.body };
    if (route === undefined) {
      send(response, await serverRoute(call));
      return;
    }
    if (route.action === "stats") {
      send(response, await statistics(call, route.model, route.version));
      return;
    }
    const started = process.hrtime.bigint();
    const labels = isInfer ? options.metrics.requestStarted(route.model) : undefined;
    const reply = await options.dispatcher.handleModelCall(call).catch((err: unknown) => {
      const error = err instanceof ProtocolError ? err : new ProtocolError("internal", `internal error: ${(err as Error).message}`);
      return errorReply(error, { infer: { ok: false, reason: error.reason } });
    });
    if (labels !== undefined) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const outcome = reply.infer ?? { ok: false as const, reason: "internal" as const };
      options.metrics.requestEnded(labels, seconds, { ...outcome, version: reply.version ?? "" });
    }
    send(response, reply);
  }

  /** Triton's statistics extension: GET /v2/models/stats, /v2/models/{m}[/versions/{v}]/stats. */
  async function statistics(call: HttpCall, model: string | undefined, version: string | undefined): Promise<HttpReply> {
    if (call.method !== "GET") return methodNotAllowed(call, "GET");
    const served = options.dispatcher.models().map((entry) => entry.name);
    if (model !== undefined && !served.includes(model)) {
      return errorReply(new ProtocolError("not_found", `unknown model "${model}"; this server serves ${served.join(", ") || "no models"}`));
    }
    const merged = await options.metrics.mergedJson(await options.workerMetrics());
    const stats = modelStatistics(
      merged,
      { ...(model === undefined ? {} : { model }), ...(version === undefined ? {} : { version }) },
      (name, storeVersion) => options.metrics.versionNumber(name, storeVersion),
    ).filter((entry) => served.includes(entry.name));
    if (version !== undefined && stats.length === 0) {
      return errorReply(new ProtocolError("not_found", `model "${model}" has no version "${version}" loaded`));
    }
    return jsonReply(200, { model_stats: stats });
  }

  async function serverRoute(call: HttpCall): Promise<HttpReply> {
    if (call.path === ALL_STATS_PATH) return statistics(call, undefined, undefined);
    if (call.path.startsWith("/v2/repository/")) {
      return repositoryCall(call, options.dispatcher.models(), (name) => options.metrics.labelsFor(name).version);
    }
    const allowed = SERVER_ROUTES[call.path];
    if (allowed === undefined) return errorReply(new ProtocolError("not_found", `no route ${call.method} ${call.path}`));
    if (call.method !== allowed) return methodNotAllowed(call, allowed);
    switch (call.path) {
      case "/v2/health/live":
        return { status: 200, headers: {}, body: Buffer.alloc(0) };
      case "/v2/health/ready":
        return options.dispatcher.ready() && accepting
          ? { status: 200, headers: {}, body: Buffer.alloc(0) }
          : errorReply(new ProtocolError("not_ready", "not ready: models are loading or a worker is restarting"));
      default:
        return jsonReply(200, serverMetadata(options.serverVersion));
    }
  }

  return {
    server,
    stopAccepting: () => {
      accepting = false;
    },
    inFlight: () => inFlight,
  };
}

/** Server-level routes and the one method each takes. */
const SERVER_ROUTES: Record<string, "GET" | "POST"> = {
  "/v2": "GET",
  "/v2/": "GET",
  "/v2/health/live": "GET",
  "/v2/health/ready": "GET",
};

function send(response: ServerResponse, reply: HttpReply): void {
  response.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
  response.setHeader("content-length", reply.body.length);
  response.end(reply.body);
}
