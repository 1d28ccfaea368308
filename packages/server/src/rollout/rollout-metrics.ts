import { Counter, Histogram, type Registry } from "prom-client";
import { CONFIDENCE_DELTA_BUCKETS, COSINE_BUCKETS, METRIC } from "../metrics/names.js";
import type { RowComparison } from "./compare.js";

export type CandidateRole = "canary" | "shadow";
/** What became of one request's shadow run. */
export type ShadowOutcome = "compared" | "shed" | "failed";
/** Why a candidate left: it could not be opened (load), failed a request (infer), or its process exited (exit: shadows). */
export type DropStage = "load" | "infer" | "exit";

/**
 * What a canary or shadow is watched by: requests per side, candidates dropped, and the shadow's
 * comparison with the primary (label agreement, cosine, |Δ confidence|) and the work it shed.
 * Registered into the worker's registry, so the supervisor's /metrics carries them.
 */
export class RolloutMetrics {
  private readonly requests: Counter;
  private readonly dropped: Counter;
  private readonly shadowRequests: Counter;
  private readonly agreement: Counter;
  private readonly cosine: Histogram;
  private readonly confidenceDelta: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: METRIC.rolloutRequests,
      help: "Infer requests of an agent with a canary, by the side that answered (primary or canary) and its version",
      labelNames: ["model", "version", "role"],
      registers,
    });
    this.dropped = new Counter({
      name: METRIC.rolloutCandidateDropped,
      help: "Canary or shadow candidates dropped from the rotation, by stage (load: failed to open, verify or warm up; infer: failed a request; exit: the shadow process exited)",
      labelNames: ["model", "version", "role", "stage"],
      registers,
    });
    this.shadowRequests = new Counter({
      name: METRIC.shadowRequests,
      help: "Primary requests the shadow compared, shed (the host was busy or the shadow still running) or failed on",
      labelNames: ["model", "version", "outcome"],
      registers,
    });
    this.agreement = new Counter({
      name: METRIC.shadowAgreement,
      help: "Classifier rows the shadow labelled as the primary did (agree=true) or not",
      labelNames: ["model", "version", "agree"],
      registers,
    });
    this.cosine = new Histogram({
      name: METRIC.shadowCosine,
      help: "Cosine of the shadow's embedding of a row to the primary's",
      labelNames: ["model", "version"],
      buckets: COSINE_BUCKETS,
      registers,
    });
    this.confidenceDelta = new Histogram({
      name: METRIC.shadowConfidenceDelta,
      help: "|Δ| between shadow and primary of the probability of the primary's winning class, per row",
      labelNames: ["model", "version"],
      buckets: CONFIDENCE_DELTA_BUCKETS,
      registers,
    });
  }

  /** A candidate started: its series exist at 0, so a dashboard's rate() sees the first event. */
  candidateServing(agent: string, version: string, role: CandidateRole): void {
    if (role === "canary") this.requests.inc({ model: agent, version, role }, 0);
    else {
      for (const outcome of ["compared", "shed", "failed"] as const) this.shadowRequests.inc({ model: agent, version, outcome }, 0);
    }
  }

  answered(agent: string, version: string, role: "primary" | "canary"): void {
    this.requests.inc({ model: agent, version, role });
  }

  candidateDropped(agent: string, version: string, role: CandidateRole, stage: DropStage): void {
    this.dropped.inc({ model: agent, version, role, stage });
  }

  shadow(agent: string, version: string, outcome: ShadowOutcome): void {
    this.shadowRequests.inc({ model: agent, version, outcome });
  }

  compared(agent: string, version: string, rows: readonly RowComparison[]): void {
    const labels = { model: agent, version };
    for (const row of rows) {
      if (row.agree !== undefined) this.agreement.inc({ ...labels, agree: String(row.agree) });
      if (row.cosine !== undefined) this.cosine.observe(labels, row.cosine);
      if (row.confidenceDelta !== undefined) this.confidenceDelta.observe(labels, row.confidenceDelta);
    }
  }
}
