import type { EndpointSet, ModelEndpoint } from "../endpoint.js";
import { decodeInferBody, tensorBytes, tensorJsonData } from "../protocol/binary-codec.js";
import type { RequestTiming } from "../metrics/worker-metrics.js";
import type { InferCall } from "../protocol/infer-request.js";
import { runInfer, type InferOutcome } from "../protocol/infer.js";
import type { Rollout } from "../rollout/rollout.js";
import { evidenceParameters, modelMetadata } from "../protocol/metadata.js";
import { modelConfig } from "../protocol/model-config.js";
import { ProtocolError, type FailureReason } from "../protocol/protocol-error.js";

/** An HTTP request as the routes see it: the body already read (and capped) by the transport. */
export interface HttpCall {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What a route answered, plus what metrics need to know about it. */
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The version that answered, for requests addressed to a model. */
  version?: string;
  /** Set for infer requests only. */
  infer?: { ok: true } | { ok: false; reason: FailureReason };
}

export const HEADER_LENGTH = "inference-header-content-length";

export function jsonReply(status: number, value: unknown, extra: Partial<HttpReply> = {}): HttpReply {
  return { status, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(value)), ...extra };
}

export function errorReply(error: ProtocolError, extra: Partial<HttpReply> = {}): HttpReply {
  return jsonReply(error.status, { error: error.message }, extra);
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer|config|stats))?$/;

/** Triton's all-models statistics path, which the model route's pattern would read as a model named "stats". */
export const ALL_STATS_PATH = "/v2/models/stats";

export interface ModelPath {
  model: string;
  version: string | undefined;
  /** undefined: the model's metadata. */
  action: "ready" | "infer" | "config" | "stats" | undefined;
}

/** What a path under /v2/models addresses; undefined for server routes (and /v2/models/stats). */
export function parseModelPath(path: string): ModelPath | undefined {
  if (path === ALL_STATS_PATH) return undefined;
  const match = MODEL_ROUTE.exec(path);
  if (match === null || match[1] === undefined) return undefined;
  return {
    model: decodeURIComponent(match[1]),
    version: match[2] === undefined ? undefined : decodeURIComponent(match[2]),
    action: match[3] as ModelPath["action"],
  };
}

/** The model name a path addresses, for routing between workers; undefined for server routes. */
export function modelOfPath(path: string): string | undefined {
  return parseModelPath(path)?.model;
}

/** The one method each route takes: anything else is 405 with an Allow header, before any other check. */
export function methodOf(action: ModelPath["action"]): "GET" | "POST" {
  return action === "infer" ? "POST" : "GET";
}

export function methodNotAllowed(call: Pick<HttpCall, "method" | "path">, allowed: string, extra: Partial<HttpReply> = {}): HttpReply {
  const reply = errorReply(new ProtocolError("method_not_allowed", `${call.path} takes ${allowed}, not ${call.method}`), extra);
  return { ...reply, headers: { ...reply.headers, allow: allowed } };
}

/** Where the worker's protocol routes report what they measured of an infer request. */
export interface RequestObserver {
  observeRequest(timing: RequestTiming): void;
}

/** Routes under /v2/models/{m}[/versions/{v}][/ready|/infer|/config]. */
export async function handleModelCall(endpoints: EndpointSet, call: HttpCall, observer?: RequestObserver): Promise<HttpReply> {
  const route = parseModelPath(call.path);
  if (route === undefined || route.action === "stats")
    return errorReply(new ProtocolError("not_found", `no route ${call.method} ${call.path}`));
  const { model: agent, version, action } = route;
  const endpoint = endpoints.get(agent);
  const isInfer = action === "infer";
  const failed = (error: ProtocolError): Partial<HttpReply> => (isInfer ? { infer: { ok: false, reason: error.reason } } : {});
  if (call.method !== methodOf(action)) {
    const error = new ProtocolError("method_not_allowed", "");
    return methodNotAllowed(call, methodOf(action), failed(error));
  }
  if (endpoint === undefined) {
    const served = endpoints
      .list()
      .map((served) => served.agent)
      .join(", ");
    const error = new ProtocolError("not_found", `unknown model "${agent}"; this server serves ${served || "no models"}`);
    return errorReply(error, failed(error));
  }
  if (isInfer) return infer(endpoint, call, version, observer);
  const primary = endpoint.current();
  // A canary's version answers on its version URLs as it does for infer.
  const served = version === undefined || version === primary.version ? endpoint : endpoint.rollout?.candidateServing(version);
  if (served === undefined) {
    return errorReply(
      new ProtocolError("not_found", `model "${agent}" has no version "${version}" being served (serving "${primary.version}")`),
    );
  }
  const current = served.current();
  if (action === "ready") return { status: 200, headers: {}, body: Buffer.alloc(0), version: current.version };
  if (action === "config") return jsonReply(200, modelConfig(current, served.batching), { version: current.version });
  return jsonReply(200, modelMetadata(current), { version: current.version });
}

async function infer(
  endpoint: ModelEndpoint,
  call: HttpCall,
  version: string | undefined,
  observer: RequestObserver | undefined,
): Promise<HttpReply> {
  try {
    const started = process.hrtime.bigint();
    const headerLength = parseHeaderLength(call.headers[HEADER_LENGTH]);
    const decoded = decodeInferBody(call.body, headerLength);
    const decodeSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { rollout } = endpoint;
    const outcome: InferOutcome & { role?: "primary" | "canary" } =
      rollout === undefined || !rollout.active
        ? await runInfer(endpoint, decoded, version)
        : await runRollout(endpoint, rollout, decoded, version);
    const replyStarted = process.hrtime.bigint();
    const reply = inferReply(outcome, outcome.role);
    observer?.observeRequest({
      agent: endpoint.agent,
      version: outcome.evidence.version,
      computeInputSeconds: decodeSeconds + (outcome.input.tokenizeSeconds ?? 0),
      tokenizeSeconds: outcome.input.tokenizeSeconds,
      rowTokens: outcome.input.rowTokens,
      computeOutputSeconds: Number(process.hrtime.bigint() - replyStarted) / 1e9,
    });
    return reply;
  } catch (err) {
    const error =
      err instanceof ProtocolError
        ? err
        : new ProtocolError("internal", `model "${endpoint.agent}" failed: ${(err as Error).message}`, { cause: err });
    return errorReply(error, { infer: { ok: false, reason: error.reason }, version: endpoint.current().version });
  }
}

export function parseHeaderLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new ProtocolError("bad_request", `Inference-Header-Content-Length must be a non-negative integer, got "${String(value)}"`);
  }
  return Number(text);
}

/**
 * An infer call to an agent with a canary or shadow: the canary answers its share (a canary that
 * fails on its own account is dropped and the primary answers instead); the shadow gets the call
 * once the primary's answer is made.
 */
async function runRollout(
  endpoint: ModelEndpoint,
  rollout: Rollout,
  call: InferCall,
  version: string | undefined,
): Promise<InferOutcome & { role: "primary" | "canary" }> {
  const canary = rollout.canaryFor(call.id, version);
  if (canary !== undefined) {
    try {
      const outcome = await runInfer(canary, call, version);
      rollout.answered(outcome.evidence.version, "canary");
      return { ...outcome, role: "canary" };
    } catch (err) {
      if (!(err instanceof ProtocolError) || !rollout.canaryFailed(err)) throw err;
    }
  }
  const outcome = await runInfer(endpoint, call, version, { allOutputs: rollout.wantsAllOutputs });
  rollout.answered(outcome.evidence.version, "primary");
  rollout.afterPrimary(call, outcome);
  return { ...outcome, role: "primary" };
}

function inferReply(outcome: InferOutcome, role: "primary" | "canary" | undefined): HttpReply {
  const binaryParts: Buffer[] = [];
  const outputs = outcome.outputs.map(({ tensor, binary }) => {
    const base = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape };
    if (!binary) return { ...base, data: tensorJsonData(tensor) };
    const bytes = tensorBytes(tensor);
    binaryParts.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(
    JSON.stringify({
      model_name: outcome.modelName,
      model_version: outcome.evidence.version,
      ...(outcome.id === undefined ? {} : { id: outcome.id }),
      // With a canary or shadow, the answer says which version and side served it.
      parameters: {
        ...evidenceParameters(outcome.evidence),
        ...(role === undefined ? {} : { served_version: outcome.evidence.version, served_role: role }),
      },
      outputs,
    }),
  );
  const meta = { version: outcome.evidence.version, infer: { ok: true as const } };
  if (binaryParts.length === 0) return { status: 200, headers: { "content-type": "application/json" }, body: header, ...meta };
  return {
    status: 200,
    headers: { "content-type": "application/octet-stream", [HEADER_LENGTH]: String(header.length) },
    body: Buffer.concat([header, ...binaryParts]),
    ...meta,
  };
}
