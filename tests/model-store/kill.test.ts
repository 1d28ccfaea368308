import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { assertBuilt, REPO_ROOT } from "./helpers.js";

beforeAll(() => assertBuilt());

describe("publisher killed with SIGKILL at random moments", () => {
  it("never leaves current incomplete or a torn version visible, and the next writer and gc clean up", async () => {
    // The same harness as scripts/model-store-kill-test.mjs (~50 MB, 50 kills), scaled down for CI.
    const { runKillTest } = await import(join(REPO_ROOT, "scripts", "model-store-kill-test.mjs"));
    const summary = await runKillTest({ mb: 10, kills: 10, log: () => undefined });
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ ok: true, kills: 10, staging_after_next_writer: 0 });
    expect(summary.killed).toBeGreaterThan(0);
    expect(summary.staging_cleaned_by_gc).toBeGreaterThan(0);
  }, 120_000);

  it("is never ok when no kill landed", async () => {
    const { runKillTest } = await import(join(REPO_ROOT, "scripts", "model-store-kill-test.mjs"));
    const summary = await runKillTest({ mb: 1, kills: 0, log: () => undefined });
    expect(summary).toMatchObject({ ok: false, killed: 0 });
    expect(summary.violations).toEqual(expect.arrayContaining([expect.stringMatching(/^no kill landed: all 0 publishers/)]));
  }, 120_000);
});
