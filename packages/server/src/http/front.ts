import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@trtforge/core";
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { FrontMetrics } from "../metrics/front-metrics.js";
import { serverMetadata } from "../protocol/metadata.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { modelStatistics } from "../protocol/statistics.js";
import { bodyDecoder, type BodyDecoder } from "./content-encoding.js";
import { boundedInferBody, type BoundedInferBody } from "./infer-body-sink.js";
import { MAX_OTHER_STRING_UNITS } from "./json-text-bounder.js";
import { readBody, type BodyRead } from "./read-body.js";
import { repositoryCall } from "./repository.js";
import {
  ALL_STATS_PATH,
  errorReply,
  HEADER_LENGTH,
  jsonReply,
  methodNotAllowed,
  parseHeaderLength,
  parseModelPath,
  type HttpCall,
  type HttpReply,
} from "./routes.js";

/** How long the rest of an oversized body may take to arrive (and be dropped) before the connection is cut. */
const BODY_DISCARD_MS = 30_000;

/** Default time from a connection's first byte to the end of a request's headers (Node's own is 60 s). */
export const DEFAULT_HEADER_TIMEOUT_MS = 30_000;
/** Default time a request body may send nothing before it is answered 408 and its connection closed. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Where model requests go: the endpoints of this process, or the workers behind a supervisor. */
export interface ModelDispatcher {
  /** Every configured model has a version loaded and warmed up. */
  ready(): boolean;
  /** The configured models, and whether each has a ready worker (the repository index). */
  models(): { name: string; ready: boolean }[];
  handleModelCall(call: HttpCall): Promise<HttpReply>;
  /**
   * The most UTF-8 bytes a text of this model may have before it is refused or cut (the
   * runtime's maxTextBytes of the version serving); undefined for a name not served. The front
   * keeps one character more of each text than this and drops the rest as it arrives.
   */
  textLimitBytes(model: string): number | undefined;
}

export interface FrontOptions {
  dispatcher: ModelDispatcher;
  metrics: FrontMetrics;
  /** The registries of whatever runs the models (workers), for the statistics extension. */
  workerMetrics: () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
  logger: Logger;
  serverVersion: string;
  maxBodyBytes: number;
  /** Headers not complete this long after a request starts: Node answers 408 and closes. Default 30 s. */
  headerTimeoutMs?: number;
  /** A body that sends no byte for this long: 408 with a JSON error, connection closed. Default 30 s. */
  bodyTimeoutMs?: number;
}

export interface Front {
  server: Server;
  /** Stops taking new requests; requests that still arrive on open connections get 503. */
  stopAccepting(): void;
  /** Requests whose body is read and whose answer is not sent yet (what a drain waits for). */
  inFlight(): number;
  /** Requests whose body is still arriving; stopAccepting() answers them 503 at once. */
  receiving(): number;
}

export function createFront(options: FrontOptions): Front {
  let accepting = true;
  let inFlight = 0;
  const receiving = new Set<BodyRead>();
  const headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const server = createServer(
    {
      headersTimeout: headerTimeoutMs,
      // Node checks header and request deadlines on this period; a finer one keeps short limits close.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headerTimeoutMs / 4))),
      // The whole request is bounded by the body's idle timeout instead (a large body on a slow link
      // keeps sending); Node's own total limit must not be below the header one.
      requestTimeout: 0,
    },
    (request, response) => {
      handle(request, response).catch((err: unknown) => {
        options.logger.error({ err }, "request handler failed");
        if (!response.headersSent) send(response, errorReply(new ProtocolError("internal", `internal error: ${(err as Error).message}`)));
      });
    },
  );

  /** Answers an infer or other request that will not be processed, and closes its connection after the answer. */
  function refuse(
    request: IncomingMessage,
    response: ServerResponse,
    error: ProtocolError,
    model: string | undefined,
    isInfer: boolean,
  ): void {
    if (isInfer && model !== undefined) options.metrics.requestRejected(model, error.reason);
    response.setHeader("connection", "close");
    response.once("finish", () => request.socket.destroySoon());
    send(response, errorReply(error));
  }

  /**
   * Answers a request whose body is not wanted now (over the limit, or refused on what arrived)
   * while the client may still be sending: the rest is read and dropped as it arrives, never kept.
   * Closing the socket instead would reset the connection under a client still sending, and a
   * reset can destroy the answer before the client reads it. A body that never ends is cut off.
   */
  function answerAndDiscard(
    request: IncomingMessage,
    response: ServerResponse,
    error: ProtocolError,
    model: string | undefined,
    isInfer: boolean,
  ): void {
    if (isInfer && model !== undefined) options.metrics.requestRejected(model, error.reason);
    request.resume();
    const cutOff = setTimeout(() => request.socket.destroy(), BODY_DISCARD_MS);
    request.once("end", () => clearTimeout(cutOff));
    request.once("close", () => clearTimeout(cutOff));
    send(response, errorReply(error));
  }

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
    // What can be refused from the headers is refused before a byte of the body is read.
    let decoder: BodyDecoder;
    let inferBody: BoundedInferBody | undefined;
    try {
      decoder = bodyDecoder(request.headers["content-encoding"]);
      if (isInfer) {
        // A text is kept to one character past its model's byte limit: enough for the worker to
        // refuse it as over, or to cut it exactly as it would cut the whole text.
        const limit = options.dispatcher.textLimitBytes(model) ?? MAX_OTHER_STRING_UNITS;
        inferBody = boundedInferBody(parseHeaderLength(request.headers[HEADER_LENGTH]), limit + 1);
      }
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError("bad_request", (err as Error).message);
      answerAndDiscard(request, response, error, model, isInfer);
      return;
    }
    const read = readBody(request, {
      limit: options.maxBodyBytes,
      idleMs: bodyTimeoutMs,
      ...(inferBody === undefined ? {} : { sink: inferBody }),
      ...(decoder === undefined ? {} : { decoder }),
    });
    receiving.add(read);
    const body = await read.result.finally(() => receiving.delete(read));
    if (!body.ok) {
      if (body.tooLarge) {
        const error = new ProtocolError(
          "payload_too_large",
          `the request body (${body.received} bytes or more) is over the server's limit of ${options.maxBodyBytes} bytes; send fewer rows per request`,
        );
        answerAndDiscard(request, response, error, model, isInfer);
        return;
      }
      if (body.rejected !== undefined) {
        answerAndDiscard(request, response, body.rejected, model, isInfer);
        return;
      }
      if (body.timedOut === true) {
        // A stalled upload: the client is not sending, so the answer does not race its bytes.
        const error = new ProtocolError(
          "request_timeout",
          `the request body sent nothing for ${bodyTimeoutMs} ms (${body.error.message}); send the whole body without pausing`,
        );
        refuse(request, response, error, model, isInfer);
        return;
      }
      if (body.shuttingDown === true) {
        const error = new ProtocolError("shutting_down", "the server is shutting down; send the request to another instance");
        refuse(request, response, error, model, isInfer);
        return;
      }
      return;
    }
    inFlight += 1;
    response.once("close", () => {
      inFlight -= 1;
    });
    const headerLength = inferBody?.headerLength();
    const headers = headerLength === undefined ? request.headers : { ...request.headers, [HEADER_LENGTH]: String(headerLength) };
    // Triton's integer versions (the repository index's and the statistics') name store versions here too.
    const storeVersion = route?.version === undefined ? undefined : options.metrics.storeVersionOf(route.model, route.version);
    const modelPath =
      route?.version === undefined || storeVersion === route.version
        ? path
        : path.replace(`/versions/${encodeURIComponent(route.version)}`, `/versions/${encodeURIComponent(storeVersion ?? "")}`);
    const call: HttpCall = { method, path: modelPath, headers, body: body.body };
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
      // The same integer versions as the statistics (Triton's are integers; the store name is in the metadata).
      return repositoryCall(call, options.dispatcher.models(), (name) => {
        const storeVersion = options.metrics.labelsFor(name).version;
        return String(options.metrics.versionNumber(name, storeVersion) ?? storeVersion);
      });
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
      // An upload still arriving has not started; waiting for it would let one stalled client hold the drain.
      for (const read of receiving) read.abort();
    },
    inFlight: () => inFlight,
    receiving: () => receiving.size,
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
