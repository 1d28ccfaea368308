import type { Logger } from "@trtforge/core";
import type { ModelKind, OutputTensor } from "@trtforge/runtime";
import type { ModelEndpoint } from "../endpoint.js";
import { runInfer, type InferOutcome } from "../protocol/infer.js";
import { TEXT_INPUT, type InferCall } from "../protocol/infer-request.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import { goesToCanary } from "./canary.js";
import { compareOutputs, type RowComparison } from "./compare.js";
import type { CandidateRole, DropStage, RolloutMetrics } from "./rollout-metrics.js";

/** Rows below this cosine count as a disagreement of an embedding shadow (logged in the sample). */
export const SHADOW_DISAGREE_COSINE = 0.99;
/** Disagreements logged per shadow candidate; past it they are only counted (metrics). */
export const DEFAULT_DISAGREEMENT_SAMPLE = 20;
/** Characters of a request's text a logged disagreement carries. */
const EXCERPT_CHARS = 160;

/**
 * Where a shadow candidate runs: serve-engine's is another process (the shadow worker, at the lowest
 * CPU priority), reached over IPC; an endpoint in this process serves tests and embedders.
 */
export interface ShadowTarget {
  readonly version: string;
  /** What its outputs are compared as. */
  readonly kind: ModelKind;
  /**
   * Every output of the candidate for the call, or "shed" when it cannot take the call now (it is
   * still starting). Rejects with a ProtocolError; a candidate fault (internal, not_ready,
   * worker_exited) drops the shadow.
   */
  run(call: InferCall): Promise<readonly OutputTensor[] | "shed">;
}

/** A shadow candidate served by an endpoint of this process. */
export function endpointShadowTarget(endpoint: ModelEndpoint): ShadowTarget {
  return {
    get version() {
      return endpoint.current().version;
    },
    get kind() {
      return endpoint.current().kind;
    },
    run: async (call) => (await runInfer(endpoint, call, undefined, { allOutputs: true })).all,
  };
}

export interface RolloutOptions {
  agent: string;
  canary?: { endpoint: ModelEndpoint; percent: number };
  /** The shadow: an endpoint of this process, or a target elsewhere (serve-engine: the shadow process). */
  shadow?: ({ endpoint: ModelEndpoint } | { target: ShadowTarget }) & { maxInFlight?: number; disagreementSample?: number };
  /** Whether the primary is running or has requests waiting: the host is busy, and the shadow sheds instead of adding work. */
  primaryBusy?: () => boolean;
  metrics: RolloutMetrics;
  logger: Logger;
  /** Where requests without an id draw their side; default Math.random. */
  random?: () => number;
  /** A candidate left the rotation (its owner closes it). */
  onDrop?: (role: CandidateRole, version: string) => void;
}

/**
 * A canary or a shadow beside one agent's primary (serve-engine --canary / --shadow). The protocol
 * routes ask it which side answers a request, tell it when the canary failed one, and hand it each
 * answered primary request for the shadow; it never delays or fails a primary answer.
 */
export interface Rollout {
  readonly agent: string;
  /** The shadow compares every output, whatever the client asked for: primary runs keep them all. */
  readonly wantsAllOutputs: boolean;
  /**
   * The canary's endpoint for a request in its share (by id where given, else at random; a URL
   * naming the canary's version goes there); undefined: the primary answers.
   */
  canaryFor(id: string | undefined, requestedVersion: string | undefined): ModelEndpoint | undefined;
  /**
   * The endpoint serving `version` beside the primary: the canary's while it is in the rotation, so
   * the version URLs (ready, config, metadata) answer for the version that infer answers on.
   */
  candidateServing(version: string): ModelEndpoint | undefined;
  /**
   * The canary failed a request on its own account (not the client's): it is dropped from the
   * rotation and true is returned, so the request is answered by the primary instead.
   */
  canaryFailed(error: ProtocolError): boolean;
  /** A request was answered by this side and version (counted where a canary runs). */
  answered(version: string, role: "primary" | "canary"): void;
  /** After the primary answered: the shadow runs the same call, later, or sheds it. Never throws. */
  afterPrimary(call: InferCall, outcome: InferOutcome): void;
  /** Shadow runs in flight (what close() waits for). */
  readonly shadowInFlight: number;
  /**
   * False when the only candidate never served: a shadow whose process could not open it (stage
   * load). The agent then answers as if it had none, as where a canary fails to open. A candidate
   * dropped later leaves the evidence fields in place: clients saw them already.
   */
  readonly active: boolean;
  /**
   * The shadow left from outside this process: its process could not open it (stage load) or
   * exited (stage exit). Reported and dropped like a failing shadow; nothing if already dropped.
   */
  shadowGone(stage: "load" | "exit", reason: string): void;
}

/** A failure that says the candidate is broken, not that the request was bad. */
function candidateFault(error: ProtocolError): boolean {
  return error.reason === "internal" || error.reason === "not_ready" || error.reason === "worker_exited";
}

interface ShadowState {
  target: ShadowTarget;
  maxInFlight: number;
  disagreementSample: number;
}

export function createRollout(options: RolloutOptions): Rollout {
  const { agent, metrics, logger } = options;
  let canary = options.canary;
  let shadow: ShadowState | undefined =
    options.shadow === undefined
      ? undefined
      : {
          target: "target" in options.shadow ? options.shadow.target : endpointShadowTarget(options.shadow.endpoint),
          maxInFlight: options.shadow.maxInFlight ?? 1,
          disagreementSample: options.shadow.disagreementSample ?? DEFAULT_DISAGREEMENT_SAMPLE,
        };
  let inFlight = 0;
  let logged = 0;
  let neverServed = false;

  const drop = (role: CandidateRole, version: string, err: unknown, stage: DropStage = "infer"): void => {
    const message = err instanceof Error ? err.message : String(err);
    logger.error(
      { agent, version, role, stage, err: message },
      `${role} candidate failed; dropped from the rotation, the primary keeps serving`,
    );
    metrics.candidateDropped(agent, version, role, stage);
    options.onDrop?.(role, version);
  };

  const logDisagreements = (call: InferCall, version: string, rows: readonly RowComparison[]): void => {
    const sample = shadow?.disagreementSample ?? DEFAULT_DISAGREEMENT_SAMPLE;
    const texts = call.inputs.find((input) => input.name === TEXT_INPUT)?.data;
    rows.forEach((row, index) => {
      const disagrees = row.agree === false || (row.cosine !== undefined && row.cosine < SHADOW_DISAGREE_COSINE);
      if (!disagrees || logged >= sample) return;
      logged += 1;
      const text = texts?.kind === "bytes" ? texts.values[index]?.slice(0, EXCERPT_CHARS) : undefined;
      logger.warn(
        {
          agent,
          shadow_version: version,
          id: call.id,
          row: index,
          ...row,
          ...(text === undefined ? {} : { text }),
          sample: `${logged}/${sample}`,
        },
        "shadow disagrees with the primary",
      );
    });
  };

  const runShadow = async (state: ShadowState, call: InferCall, outcome: InferOutcome): Promise<void> => {
    const { target } = state;
    const version = target.version;
    try {
      const candidate = await target.run(call);
      if (candidate === "shed") {
        metrics.shadow(agent, version, "shed");
        return;
      }
      const rows = compareOutputs(target.kind, outcome.all, candidate);
      metrics.shadow(agent, version, "compared");
      if (rows !== undefined) {
        metrics.compared(agent, version, rows);
        logDisagreements(call, version, rows);
      }
    } catch (err) {
      metrics.shadow(agent, version, "failed");
      // A request the candidate refuses as bad (its own, tighter limits) says nothing of its health.
      if (err instanceof ProtocolError && !candidateFault(err)) return;
      if (shadow === state) {
        shadow = undefined;
        drop("shadow", version, err);
      }
    }
  };

  return {
    agent,
    get wantsAllOutputs() {
      return shadow !== undefined;
    },
    get shadowInFlight() {
      return inFlight;
    },
    get active() {
      return !neverServed;
    },
    shadowGone(stage, reason) {
      if (shadow === undefined) return;
      const version = shadow.target.version;
      shadow = undefined;
      if (stage === "load" && options.canary === undefined) neverServed = true;
      drop("shadow", version, reason, stage);
    },
    canaryFor(id, requestedVersion) {
      if (canary === undefined) return undefined;
      const toCanary =
        requestedVersion === undefined
          ? goesToCanary(canary.percent, id, options.random)
          : requestedVersion === canary.endpoint.current().version;
      return toCanary ? canary.endpoint : undefined;
    },
    candidateServing(version) {
      return canary !== undefined && canary.endpoint.current().version === version ? canary.endpoint : undefined;
    },
    canaryFailed(error) {
      if (canary === undefined || !candidateFault(error)) return false;
      const version = canary.endpoint.current().version;
      canary = undefined;
      drop("canary", version, error);
      return true;
    },
    answered(version, role) {
      if (options.canary !== undefined) metrics.answered(agent, version, role);
    },
    afterPrimary(call, outcome) {
      const state = shadow;
      if (state === undefined) return;
      const version = state.target.version;
      try {
        if (inFlight >= state.maxInFlight) {
          metrics.shadow(agent, version, "shed");
          return;
        }
        inFlight += 1;
        // After the primary's reply has gone (setImmediate runs once the caller has returned it and
        // the primary's batch has wound up); a primary still busy then keeps the host.
        setImmediate(() => {
          if (options.primaryBusy?.() === true) {
            inFlight -= 1;
            metrics.shadow(agent, version, "shed");
            return;
          }
          void runShadow(state, call, outcome).finally(() => {
            inFlight -= 1;
          });
        });
      } catch (err) {
        logger.error({ agent, err }, "shadow scheduling failed");
      }
    },
  };
}
