import { ForgeError } from "@trtforge/core";

/** A version served beside an agent's primary: a canary taking a share of its requests, or a shadow. */
export interface CanaryRef {
  role: "canary";
  agent: string;
  version: string;
  percent: number;
}
export interface ShadowRef {
  role: "shadow";
  agent: string;
  version: string;
}
export type CandidateRef = CanaryRef | ShadowRef;

const REF = /^([^@=\s]+)@([^@=\s]+)$/;

function agentAndVersion(text: string, flag: string, example: string): { agent: string; version: string } {
  const match = REF.exec(text);
  if (match === null) {
    throw new ForgeError("INVALID_NAME", `${flag} "${text}" is not <agent>@<version>`, {
      input: flag,
      fix: `name a published version of a served agent, e.g. ${flag} ${example}`,
    });
  }
  return { agent: match[1]!, version: match[2]! };
}

/** Parses `--canary <agent>@<version>=<percent>`: a share of 0 < percent ≤ 100, decimals allowed. */
export function parseCanaryRef(text: string): CanaryRef {
  const at = text.lastIndexOf("=");
  const percentText = at === -1 ? "" : text.slice(at + 1);
  const percent = Number(percentText);
  if (at === -1 || percentText.trim() === "" || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw new ForgeError("INVALID_LIMIT", `--canary "${text}" needs a share of requests after "=", more than 0 and at most 100`, {
      input: "--canary",
      fix: "e.g. --canary trt-embeddings@v2=10 sends 10% of the requests to v2",
    });
  }
  return { role: "canary", ...agentAndVersion(text.slice(0, at), "--canary", "trt-embeddings@v2=10"), percent };
}

/** Parses `--shadow <agent>@<version>`. */
export function parseShadowRef(text: string): ShadowRef {
  return { role: "shadow", ...agentAndVersion(text, "--shadow", "trt-embeddings@v2") };
}

export function formatCandidateRef(ref: CandidateRef): string {
  return ref.role === "canary" ? `${ref.agent}@${ref.version}=${ref.percent}` : `${ref.agent}@${ref.version}`;
}

/**
 * Candidates checked against the served agents before any worker starts: each names an agent
 * served here (--model), and an agent has at most one candidate (one canary or one shadow).
 */
export function checkCandidates(candidates: readonly CandidateRef[], servedAgents: readonly string[]): void {
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const flag = `--${candidate.role}`;
    if (!servedAgents.includes(candidate.agent)) {
      throw new ForgeError(
        "INVALID_OPTION",
        `${flag} ${formatCandidateRef(candidate)} names agent "${candidate.agent}", which is not served (served: ${servedAgents.join(", ")})`,
        { input: flag, fix: `serve the agent too (--model ${candidate.agent}), or name a served one` },
      );
    }
    if (seen.has(candidate.agent)) {
      throw new ForgeError("INVALID_OPTION", `agent "${candidate.agent}" has more than one canary or shadow`, {
        input: flag,
        fix: "give each agent at most one candidate: one --canary or one --shadow",
      });
    }
    seen.add(candidate.agent);
  }
}
