import type { EndpointSet, ModelEndpoint } from "../endpoint.js";
import { decodeInferBody, tensorBytes, tensorJsonData } from "../protocol/binary-codec.js";
import { runInfer, type InferOutcome } from "../protocol/infer.js";
import { evidenceParameters, modelMetadata } from "../protocol/metadata.js";
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

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;

/** The model name a path addresses, for routing between workers; undefined for server routes. */
export function modelOfPath(path: string): string | undefined {
  const match = MODEL_ROUTE.exec(path);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

/** Routes under /v2/models/{m}[/versions/{v}][/ready|/infer]. */
export async function handleModelCall(endpoints: EndpointSet, call: HttpCall): Promise<HttpReply> {
  const match = MODEL_ROUTE.exec(call.path);
  if (match === null || match[1] === undefined) return errorReply(new ProtocolError("not_found", `no route ${call.method} ${call.path}`));
  const agent = decodeURIComponent(match[1]);
  const version = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  const action = match[3];
  const endpoint = endpoints.get(agent);
  const isInfer = action === "infer";
  if (endpoint === undefined) {
    const served = endpoints
      .list()
      .map((served) => served.agent)
      .join(", ");
    const error = new ProtocolError("not_found", `unknown model "${agent}"; this server serves ${served || "no models"}`);
    return errorReply(error, { ...(isInfer ? { infer: { ok: false, reason: error.reason } } : {}) });
  }
  const expectedMethod = isInfer ? "POST" : "GET";
  if (call.method !== expectedMethod) {
    return errorReply(new ProtocolError("bad_request", `${call.path} takes ${expectedMethod}, not ${call.method}`));
  }
  if (isInfer) return infer(endpoint, call, version);
  const current = endpoint.current();
  if (version !== undefined && version !== current.version) {
    return errorReply(
      new ProtocolError("not_found", `model "${agent}" has no version "${version}" being served (serving "${current.version}")`),
    );
  }
  if (action === "ready") return { status: 200, headers: {}, body: Buffer.alloc(0), version: current.version };
  return jsonReply(200, modelMetadata(current), { version: current.version });
}

async function infer(endpoint: ModelEndpoint, call: HttpCall, version: string | undefined): Promise<HttpReply> {
  try {
    const headerLength = parseHeaderLength(call.headers[HEADER_LENGTH]);
    const outcome = await runInfer(endpoint, decodeInferBody(call.body, headerLength), version);
    return inferReply(outcome);
  } catch (err) {
    const error =
      err instanceof ProtocolError
        ? err
        : new ProtocolError("internal", `model "${endpoint.agent}" failed: ${(err as Error).message}`, { cause: err });
    return errorReply(error, { infer: { ok: false, reason: error.reason } });
  }
}

function parseHeaderLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new ProtocolError("bad_request", `Inference-Header-Content-Length must be a non-negative integer, got "${String(value)}"`);
  }
  return Number(text);
}

function inferReply(outcome: InferOutcome): HttpReply {
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
      parameters: evidenceParameters(outcome.evidence),
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
