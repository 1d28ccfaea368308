import { ForgeError } from "@trtforge/core";

/** A model to serve: the agent's `current` (followed across hot swaps), or one pinned version. */
export interface ModelRef {
  agent: string;
  version?: string;
}

/** Parses `agent` or `agent@version` as --model takes it. */
export function parseModelRef(text: string): ModelRef {
  const [agent, version, extra] = text.split("@");
  if (agent === undefined || agent === "" || extra !== undefined || version === "") {
    throw new ForgeError("INVALID_NAME", `model "${text}" is not <agent> or <agent>@<version>`, {
      input: text,
      fix: "name a store agent (model-store list shows them), optionally with @<version>",
    });
  }
  return version === undefined ? { agent } : { agent, version };
}

export function formatModelRef(ref: ModelRef): string {
  return ref.version === undefined ? ref.agent : `${ref.agent}@${ref.version}`;
}
