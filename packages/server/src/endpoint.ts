import type { AdmittedBatch, InferResult, ModelLease, ServedModel } from "@trtforge/runtime";
import type { Rollout } from "./rollout/rollout.js";

/**
 * What the protocol layer serves under one agent name: the version serving now (it changes on a
 * hot swap, so it is asked for each request, never cached), a lease on it for one request (taken
 * before admission, so the request is checked, tokenized and run by one version), and the batched
 * inference path.
 * The runtime's batcher is one implementation; tests of the protocol layer use a small double.
 */
/** How requests to a model are queued and merged (the configuration extension reports it). */
export interface BatchingSettings {
  maxQueue: number;
  maxQueueDelayMs: number;
}

export interface ModelEndpoint {
  readonly agent: string;
  /** Undefined where requests are not batched (protocol tests' endpoints). */
  readonly batching?: BatchingSettings;
  current(): ServedModel;
  /** Borrows the serving version for one request; a hot swap disposes it only once every lease is released. */
  acquire(): ModelLease;
  /** Runs a request admitted (runtime's admit) with a lease from acquire(), on the version that admitted it. */
  infer(request: AdmittedBatch): Promise<InferResult>;
  /** A canary or shadow version beside this one (serve-engine --canary, --shadow). */
  readonly rollout?: Rollout;
}

/** The endpoints one process serves, by agent name. */
export interface EndpointSet {
  get(agent: string): ModelEndpoint | undefined;
  list(): readonly ModelEndpoint[];
}

export function endpointSet(endpoints: readonly ModelEndpoint[]): EndpointSet {
  const byAgent = new Map(endpoints.map((endpoint) => [endpoint.agent, endpoint]));
  return { get: (agent) => byAgent.get(agent), list: () => [...byAgent.values()] };
}
