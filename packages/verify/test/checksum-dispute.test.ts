import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "@trtforge/core";
import { serializeMetadata } from "@trtforge/engine-format";
import { verifyEngine } from "../src/index.js";
import { writeMarkerFixture, type Fixture } from "./fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-dispute-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const EDITED = "f".repeat(64);

/** The manifest.json a ModelStore version holds: the sha256 of each file as published. */
async function writeStoreManifest(fixture: Fixture): Promise<void> {
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const path of [fixture.engine, fixture.sidecar]) {
    const bytes = await readFile(path);
    files[basename(path)] = { sha256: sha256Hex(bytes), size: bytes.length };
  }
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ version: "v1", checksum: "x", metadata: { files } }));
}

function mismatch(report: Awaited<ReturnType<typeof verifyEngine>>): string {
  const problem = report.problems.find((p) => p.code === "CHECKSUM_MISMATCH");
  expect(problem, JSON.stringify(report.problems)).toBeDefined();
  return problem!.message;
}

describe("CHECKSUM_MISMATCH says that the sidecar and the file disagree, and which one changed only where it is known", () => {
  it("without a store manifest: names both values and does not claim the file changed", async () => {
    const fixture = await writeMarkerFixture(dir);
    await writeFile(fixture.sidecar, serializeMetadata({ ...fixture.metadata, checksum: EDITED }));
    const message = mismatch(await verifyEngine(fixture.engine));
    expect(message).toContain(
      `the sidecar's checksum (${EDITED}) and the sha256 of ${fixture.engine} (${fixture.metadata.checksum}) disagree`,
    );
    expect(message).toContain("either the engine file or its sidecar changed");
    expect(message).not.toMatch(/the file changed/);
  });

  it("in a store version whose manifest agrees with the file: the sidecar's checksum was edited", async () => {
    const fixture = await writeMarkerFixture(dir);
    await writeStoreManifest(fixture);
    await writeFile(fixture.sidecar, serializeMetadata({ ...fixture.metadata, checksum: EDITED }));
    const message = mismatch(await verifyEngine(fixture.engine));
    expect(message).toContain("the store manifest agrees with the file, so the sidecar's checksum was edited");
    expect(message).toContain("the sidecar differs from the published one");
  });

  it("in a store version whose manifest agrees with the sidecar: the engine file changed", async () => {
    const fixture = await writeMarkerFixture(dir);
    await writeStoreManifest(fixture);
    await appendFile(fixture.engine, Buffer.from([0]));
    const message = mismatch(await verifyEngine(fixture.engine));
    expect(message).toContain("the store manifest agrees with the sidecar, so the engine file changed after it was published");
    expect(message).toContain("the sidecar is the published one");
  });
});
