import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@trtforge/core";
import type { FrontMetrics } from "../metrics/front-metrics.js";
import { serverMetadata } from "../protocol/metadata.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { readBody } from "./read-body.js";
import { errorReply, jsonReply, modelOfPath, type HttpCall, type HttpReply } from "./routes.js";

/** How long the rest of an oversized body may take to arrive (and be dropped) before the connection is cut. */
const BODY_DISCARD_MS = 30_000;

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
    },
    inFlight: () => inFlight,
  };
}

function send(response: ServerResponse, reply: HttpReply): void {
  response.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
  response.setHeader("content-length", reply.body.length);
  response.end(reply.body);
}
