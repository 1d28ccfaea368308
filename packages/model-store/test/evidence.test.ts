import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "@trtforge/core";
import { COMPARE_REPORT_FORMAT, parseEvidenceMaxAge, promoteWithEvidence, publish, resolveCurrent } from "../src/index.js";
import { storeAndSource } from "./helpers.js";

async function twoVersions(first: "set" | "none" = "set") {
  const { root, source } = await storeAndSource();
  await writeFile(join(source, "version.txt"), "v1");
  await publish({ root, agent: "a", version: "v1", sourceDir: source, setCurrent: first === "set" });
  await writeFile(join(source, "version.txt"), "v2");
  await publish({ root, agent: "a", version: "v2", sourceDir: source, setCurrent: false });
  return root;
}

function report(fields: { baseline?: string; candidate?: string; agent?: string; passed?: boolean; createdAt?: Date } = {}) {
  const agent = fields.agent ?? "a";
  return {
    format: COMPARE_REPORT_FORMAT,
    created_at: (fields.createdAt ?? new Date()).toISOString(),
    baseline: { agent, version: fields.baseline ?? "v1", backend: "auto" },
    candidate: { agent, version: fields.candidate ?? "v2", backend: "auto" },
    outputs: [],
    verdict:
      fields.passed === false
        ? { passed: false, failures: ["sentence_embedding: cosine mean 0.8 < --min-cosine 0.99"] }
        : { passed: true, failures: [] },
  };
}

async function written(root: string, name: string, body: unknown): Promise<string> {
  const path = join(root, "..", name);
  await writeFile(path, typeof body === "string" ? body : JSON.stringify(body));
  return path;
}

const current = async (root: string) => (await resolveCurrent({ root, agent: "a", strict: true }))?.version;
const manifestOf = async (root: string, version: string) =>
  JSON.parse(await readFile(join(root, "a", "versions", version, "manifest.json"), "utf8")) as {
    checksum: string;
    metadata: Record<string, unknown>;
  };

describe("promotion with evidence", () => {
  it("refuses a missing, mismatched, failed or stale report, each with its code, and leaves current alone", async () => {
    const root = await twoVersions();
    const promote = (evidence: Parameters<typeof promoteWithEvidence>[0]["evidence"]) =>
      promoteWithEvidence({ root, agent: "a", version: "v2", evidence });
    await expect(promote(undefined)).rejects.toMatchObject({ code: "PROMOTION_EVIDENCE_REQUIRED", exitCode: 97 });
    const reversed = await written(root, "reversed.json", report({ baseline: "v2", candidate: "v1" }));
    await expect(promote({ report: reversed })).rejects.toMatchObject({ code: "PROMOTION_EVIDENCE_MISMATCH", exitCode: 98 });
    const otherAgent = await written(root, "other.json", report({ agent: "b" }));
    await expect(promote({ report: otherAgent })).rejects.toMatchObject({ code: "PROMOTION_EVIDENCE_MISMATCH" });
    const notJson = await written(root, "table.md", "# PASSED");
    await expect(promote({ report: notJson })).rejects.toMatchObject({
      code: "PROMOTION_EVIDENCE_MISMATCH",
      message: expect.stringContaining("is not JSON"),
    });
    const notReport = await written(root, "other-format.json", { ...report(), format: "something-else" });
    await expect(promote({ report: notReport })).rejects.toMatchObject({
      code: "PROMOTION_EVIDENCE_MISMATCH",
      message: expect.stringContaining("is not a compare-engines report"),
    });
    const failed = await written(root, "failed.json", report({ passed: false }));
    await expect(promote({ report: failed })).rejects.toMatchObject({
      code: "PROMOTION_EVIDENCE_FAILED",
      exitCode: 119,
      message: expect.stringContaining("cosine mean 0.8"),
    });
    const stale = await written(root, "stale.json", report({ createdAt: new Date(Date.now() - 8 * 86_400_000) }));
    await expect(promote({ report: stale })).rejects.toMatchObject({ code: "PROMOTION_EVIDENCE_STALE", exitCode: 99 });
    await expect(promote({ report: join(root, "..", "absent.json") })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    expect(await current(root)).toBe("v1");
    expect((await manifestOf(root, "v2")).metadata.promotions).toBeUndefined();
    // An older report passes where the operator allows its age.
    expect(await promote({ report: stale, maxAgeMs: 9 * 86_400_000 })).toMatchObject({ change: "promoted", current: "v2" });
  });

  it("records who promoted, when, from what, and the report's sha256 in the promoted version's manifest, which stays verifiable", async () => {
    const root = await twoVersions();
    const path = await written(root, "ok.json", report());
    const before = await manifestOf(root, "v2");
    const result = await promoteWithEvidence({ root, agent: "a", version: "v2", evidence: { report: path } });
    expect(result).toMatchObject({ change: "promoted", previous: "v1", current: "v2", verification: { ok: true } });
    const after = await manifestOf(root, "v2");
    expect(after.checksum).toBe(before.checksum);
    expect(after.metadata.promotions).toEqual([
      {
        at: expect.any(String),
        by: expect.stringMatching(/.+@.+/),
        from: "v1",
        evidence: "report",
        report_sha256: sha256Hex(await readFile(path)),
        report_path: path,
        report_created_at: expect.any(String),
      },
    ]);
    expect(result.promotion).toEqual((after.metadata.promotions as unknown[])[0]);
    // Going back without evidence is allowed when said so, and recorded as such.
    const back = await promoteWithEvidence({ root, agent: "a", version: "v1", evidence: { withoutEvidence: true } });
    expect(back.promotion).toMatchObject({ evidence: "none", from: "v2" });
    expect(((await manifestOf(root, "v1")).metadata.promotions as unknown[]).length).toBe(1);
  });

  it("an agent's first version needs no evidence; promoting the version already current changes nothing", async () => {
    const root = await twoVersions("none");
    expect(await promoteWithEvidence({ root, agent: "a", version: "v1", evidence: undefined })).toMatchObject({
      change: "first",
      promotion: { evidence: "first", from: null },
    });
    expect(await promoteWithEvidence({ root, agent: "a", version: "v1", evidence: undefined })).toMatchObject({ change: "unchanged" });
  });

  it("parses the max age forms and refuses others", () => {
    expect(parseEvidenceMaxAge("7d")).toBe(7 * 86_400_000);
    expect(parseEvidenceMaxAge("36h")).toBe(36 * 3_600_000);
    expect(parseEvidenceMaxAge("90m")).toBe(90 * 60_000);
    for (const bad of ["7", "0d", "-1h", "1w", "soon"]) expect(() => parseEvidenceMaxAge(bad)).toThrow(/is not a duration/);
  });
});
