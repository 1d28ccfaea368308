import type { InferRequest, InferResult, ServedModel } from "@trtforge/runtime";

/**
 * What the protocol layer serves under one agent name: the version serving now (it changes on a
 * hot swap, so it is asked for each request, never cached) and the batched inference path.
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
  infer(request: InferRequest): Promise<InferResult>;
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
