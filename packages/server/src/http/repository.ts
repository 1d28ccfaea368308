import { z } from "zod";
import { errorReply, jsonReply, methodNotAllowed, type HttpCall, type HttpReply } from "./routes.js";
import { badRequest, ProtocolError } from "../protocol/protocol-error.js";

const indexRequestSchema = z.strictObject({ ready: z.boolean().optional() });
const LOAD_ROUTE = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

/**
 * Triton's model repository extension over the models this server was started with:
 * `POST /v2/repository/index` lists them (`{name, version, state, reason}`; `{"ready": true}` keeps
 * the ready ones). The set is fixed at start (the store's `current` moves versions, not models), so
 * `load` of a served model answers 200 (it is loaded) and anything else, `unload` included, is 400
 * with the reason: the operator changes the set by restarting serve-engine with other --model flags.
 */
export function repositoryCall(
  call: HttpCall,
  models: readonly { name: string; ready: boolean }[],
  versionOf: (model: string) => string,
): HttpReply {
  if (call.path !== "/v2/repository/index" && !LOAD_ROUTE.test(call.path)) {
    return errorReply(new ProtocolError("not_found", `no route ${call.method} ${call.path}`));
  }
  if (call.method !== "POST") return methodNotAllowed(call, "POST");
  try {
    const match = LOAD_ROUTE.exec(call.path);
    if (match === null) return index(call.body, models, versionOf);
    const model = decodeURIComponent(match[1] ?? "");
    const served = models.some((entry) => entry.name === model);
    if (match[2] === "load" && served) return jsonReply(200, {});
    const names = models.map((entry) => entry.name).join(", ");
    throw badRequest(
      match[2] === "load"
        ? `cannot load model "${model}": this server serves a fixed set of models (${names}); restart serve-engine with --model ${model} to serve it`
        : `cannot unload model "${model}": this server serves a fixed set of models (${names}); restart serve-engine without it`,
    );
  } catch (err) {
    if (err instanceof ProtocolError) return errorReply(err);
    throw err;
  }
}

function index(body: Buffer, models: readonly { name: string; ready: boolean }[], versionOf: (model: string) => string): HttpReply {
  let request: { ready?: boolean | undefined } = {};
  if (body.length > 0) {
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch (err) {
      throw badRequest(`the repository index request is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = indexRequestSchema.safeParse(json);
    if (!parsed.success) throw badRequest(`invalid repository index request: it takes only {"ready": true|false}`);
    request = parsed.data;
  }
  const entries = models
    .filter((entry) => request.ready !== true || entry.ready)
    .map((entry) => ({
      name: entry.name,
      version: versionOf(entry.name),
      state: entry.ready ? "READY" : "UNAVAILABLE",
      reason: entry.ready ? "" : "no worker has this model loaded right now (starting or restarting)",
    }));
  return jsonReply(200, entries);
}
