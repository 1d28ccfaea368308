import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "@trtforge/core";
import { serializeMetadata, type EngineMetadata } from "@trtforge/engine-format";
import { verifyEngine } from "../src/index.js";
import { planBytes, writeMarkerFixture, writePlanFixture, type Fixture } from "./fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-sidecar-edits-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const codes = (report: Awaited<ReturnType<typeof verifyEngine>>) => report.problems.map((p) => p.code).sort();

/** What a ModelStore build version holds beside the engine: each file's sha256 and size, and the profile build-engine records. */
async function writeStoreManifest(fixture: Fixture, max: [number, number] = [128, 256]): Promise<void> {
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const path of [fixture.engine, fixture.sidecar]) {
    const bytes = await readFile(path);
    files[basename(path)] = { sha256: sha256Hex(bytes), size: bytes.length };
  }
  const metadata = { files, kind: fixture.metadata.kind, shapes: { min: [1, 1], opt: [32, 128], max } };
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ version: "v1", checksum: "x", metadata }));
}

/** An operator's edit of the sidecar, keeping it valid metadata v1. */
async function editSidecar(fixture: Fixture, patch: Partial<EngineMetadata>): Promise<void> {
  await writeFile(fixture.sidecar, serializeMetadata({ ...fixture.metadata, ...patch }));
}

/** The same edit, made thoroughly: the inputs' max shapes changed with the field. */
function inputsAt(fixture: Fixture, batch: number, seq: number): Partial<EngineMetadata> {
  return { inputs: fixture.metadata.inputs.map((i) => ({ ...i, max_shape: [batch, seq] })) };
}

describe.each([
  ["a marker", (d: string) => writeMarkerFixture(d)],
  ["a plan", (d: string) => writePlanFixture(d, [10, 13, 3, 9])],
])("verify-engine on %s in a store version checks the sidecar", (_kind, make) => {
  it("passes an untouched version, saying what it checked", async () => {
    const fixture = await make(dir);
    await writeStoreManifest(fixture);
    const report = await verifyEngine(fixture.engine);
    expect(report.problems).toEqual([]);
    expect(report.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "published", status: "pass" }),
        expect.objectContaining({ name: "profile", status: "pass", detail: expect.stringContaining("store manifest") }),
      ]),
    );
  });

  it("fails an edited max_batch_size with PROFILE_MISMATCH, and the edit itself with SIDECAR_CHANGED", async () => {
    const fixture = await make(dir);
    await writeStoreManifest(fixture);
    await editSidecar(fixture, { max_batch_size: 512 });
    const report = await verifyEngine(fixture.engine);
    expect(codes(report)).toEqual(["PROFILE_MISMATCH", "SIDECAR_CHANGED"]);
    const profile = report.problems.find((p) => p.code === "PROFILE_MISMATCH")!.message;
    expect(profile).toContain("max_batch_size 512 but input input_ids allows batch 128");
    expect(profile).toContain("max_batch_size 512 but the store manifest records 128");
  });

  it("fails an edited seq_len even when the inputs were edited to match", async () => {
    const fixture = await make(dir);
    await writeStoreManifest(fixture);
    await editSidecar(fixture, { seq_len: 512, ...inputsAt(fixture, 128, 512) });
    const report = await verifyEngine(fixture.engine);
    expect(codes(report)).toEqual(["PROFILE_MISMATCH", "SIDECAR_CHANGED"]);
    expect(report.problems.find((p) => p.code === "PROFILE_MISMATCH")!.message).toBe(
      "the sidecar's profile limits disagree: seq_len 512 but the store manifest records 256",
    );
  });

  it("fails an edit to a field nothing else states with SIDECAR_CHANGED, naming both sha256 values", async () => {
    const fixture = await make(dir);
    await writeStoreManifest(fixture);
    const before = sha256Hex(await readFile(fixture.sidecar));
    await editSidecar(fixture, { created_at: "2020-01-01T00:00:00.000Z" });
    const report = await verifyEngine(fixture.engine);
    expect(codes(report)).toEqual(["SIDECAR_CHANGED"]);
    expect(report.problems[0]!.message).toContain(`instead of ${before}`);
    expect(report.problems[0]!.message).toContain(join(dir, "manifest.json"));
  });
});

describe("verify-engine outside a store", () => {
  it("still fails an edited max_batch_size or seq_len against the inputs' max shapes", async () => {
    const fixture = await writeMarkerFixture(dir);
    await editSidecar(fixture, { max_batch_size: 64 });
    expect(codes(await verifyEngine(fixture.engine))).toEqual(["PROFILE_MISMATCH"]);
    await editSidecar(fixture, { seq_len: 128 });
    const report = await verifyEngine(fixture.engine);
    expect(codes(report)).toEqual(["PROFILE_MISMATCH"]);
    expect(report.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: "published", status: "skip" })]));
  });

  it("cannot tell a thorough edit from a build there, and says the store check was skipped", async () => {
    const fixture = await writeMarkerFixture(dir);
    await editSidecar(fixture, { max_batch_size: 64, ...inputsAt(fixture, 64, 256) });
    const report = await verifyEngine(fixture.engine);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === "published")).toMatchObject({ status: "skip" });
  });
});

describe("a replaced engine in a store version", () => {
  it("fails with ENGINE_CHANGED even when the sidecar's checksum was updated to match", async () => {
    const fixture = await writePlanFixture(dir, [10, 13, 3, 9]);
    await writeStoreManifest(fixture);
    const other = planBytes([10, 13, 3, 9], 8192);
    await writeFile(fixture.engine, other);
    await editSidecar(fixture, { checksum: sha256Hex(other) });
    expect(codes(await verifyEngine(fixture.engine))).toEqual(["ENGINE_CHANGED", "SIDECAR_CHANGED"]);
  });
});
