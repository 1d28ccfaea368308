import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@trtforge/core";
import type { FrontMetrics } from "../metrics/front-metrics.js";
import { serverMetadata } from "../protocol/metadata.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { decodeContentEncoding } from "./content-encoding.js";
import { readBody, type BodyRead } from "./read-body.js";
import { errorReply, jsonReply, modelOfPath, type HttpCall, type HttpReply } from "./routes.js";

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
  handleModelCall(call: HttpCall): Promise<HttpReply>;
}

export interface FrontOptions {
  dispatcher: ModelDispatcher;
  metrics: FrontMetrics;
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

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const model = modelOfPath(path);
    const isInfer = model !== undefined && path.endsWith("/infer");
    if (!accepting) {
      response.setHeader("connection", "close");
      const error = new ProtocolError("shutting_down", "the server is shutting down; send the request to another instance");
      if (isInfer) options.metrics.requestRejected(model, error.reason);
      request.resume();
      send(response, errorReply(error));
      return;
    }
    const read = readBody(request, options.maxBodyBytes, bodyTimeoutMs);
    receiving.add(read);
    const body = await read.result.finally(() => receiving.delete(read));
    if (!body.ok) {
      if (!body.tooLarge && body.timedOut === true) {
        // A stalled upload: the client is not sending, so the answer does not race its bytes.
        const error = new ProtocolError(
          "request_timeout",
          `the request body sent nothing for ${bodyTimeoutMs} ms (${body.error.message}); send the whole body without pausing`,
        );
        refuse(request, response, error, model, isInfer);
        return;
      }
      if (!body.tooLarge && body.shuttingDown === true) {
        const error = new ProtocolError("shutting_down", "the server is shutting down; send the request to another instance");
        refuse(request, response, error, model, isInfer);
        return;
      }
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
    inFlight += 1;
    response.once("close", () => {
      inFlight -= 1;
    });
    let decoded: Buffer;
    try {
      decoded = await decodeContentEncoding(request.headers["content-encoding"], body.body, options.maxBodyBytes);
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError("bad_request", (err as Error).message);
      if (isInfer) options.metrics.requestRejected(model, error.reason);
      send(response, errorReply(error));
      return;
    }
    const call: HttpCall = { method, path, headers: request.headers, body: decoded };
    if (model === undefined) {
      send(response, serverRoute(call));
      return;
    }
    const started = process.hrtime.bigint();
    if (isInfer) options.metrics.requestStarted(model);
    const reply = await options.dispatcher.handleModelCall(call).catch((err: unknown) => {
      const error = err instanceof ProtocolError ? err : new ProtocolError("internal", `internal error: ${(err as Error).message}`);
      return errorReply(error, { infer: { ok: false, reason: error.reason } });
    });
    if (isInfer) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const outcome = reply.infer ?? { ok: false as const, reason: "internal" as const };
      options.metrics.requestEnded(model, seconds, outcome.ok ? { ok: true, version: reply.version ?? "" } : outcome);
    }
    send(response, reply);
  }

  function serverRoute(call: HttpCall): HttpReply {
    if (call.method !== "GET") return errorReply(new ProtocolError("bad_request", `${call.path} takes GET, not ${call.method}`));
    switch (call.path) {
      case "/v2":
      case "/v2/":
        return jsonReply(200, serverMetadata(options.serverVersion));
      case "/v2/health/live":
        return { status: 200, headers: {}, body: Buffer.alloc(0) };
      case "/v2/health/ready":
        return options.dispatcher.ready() && accepting
          ? { status: 200, headers: {}, body: Buffer.alloc(0) }
          : errorReply(new ProtocolError("not_ready", "not ready: models are loading or a worker is restarting"));
      default:
        return errorReply(new ProtocolError("not_found", `no route ${call.method} ${call.path}`));
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

function send(response: ServerResponse, reply: HttpReply): void {
  response.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
  response.setHeader("content-length", reply.body.length);
  response.end(reply.body);
}
