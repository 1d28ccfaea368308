/** Store fixtures of the Triton tests beyond what build-engine can publish on a host without TensorRT. */
import { createHash } from "node:crypto";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "../cli-helpers.js";
import { AGENT, type PublishedStore } from "./serve-engine.js";

const STORE_KEYS = ["created_at", "files", "file_count", "total_bytes", "publisher", "staging", "promotions"];

/**
 * Publishes a copy of the marker version whose engine is replaced by plan-like bytes (a real plan
 * cannot be built here) and whose sidecar says kind "engine", built on a GPU of compute capability `cc`.
 */
export async function publishRealEngine(fixture: PublishedStore, version: string, cc: string, agent = AGENT): Promise<void> {
  const copy = join(fixture.dir, `real-${version}`);
  await cp(fixture.versionPath, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as { metadata: Record<string, unknown> };
  await rm(join(copy, "manifest.json"));
  const engine = manifest.metadata.engine as string;
  const plan = Buffer.concat([Buffer.from("ftrt"), Buffer.alloc(60), Buffer.from(`plan for sm ${cc}`)]);
  await writeFile(join(copy, engine), plan);
  const sidecarPath = join(copy, engine.replace(/\.engine$/, ".json"));
  const sidecar = JSON.parse(await readFile(sidecarPath, "utf8")) as Record<string, unknown>;
  Object.assign(sidecar, {
    kind: "engine",
    checksum: createHash("sha256").update(plan).digest("hex"),
    gpu: { name: `GPU sm${cc}`, compute_capability: cc },
    cuda_version: "12.6",
  });
  await writeFile(sidecarPath, JSON.stringify(sidecar, null, 2));
  const metadata = Object.fromEntries(Object.entries(manifest.metadata).filter(([key]) => !STORE_KEYS.includes(key)));
  metadata.kind = "engine";
  const metadataFile = join(fixture.dir, `real-${version}.json`);
  await writeFile(metadataFile, JSON.stringify(metadata));
  const run = runCli("model-store", [
    "publish",
    copy,
    "--agent",
    agent,
    "--root",
    fixture.store,
    "--version",
    version,
    "--metadata",
    `@${metadataFile}`,
    "--no-set-current",
    "--json",
  ]);
  if (run.status !== 0) throw new Error(`model-store publish exited ${run.status}:\n${run.stderr}`);
  await rm(copy, { recursive: true, force: true });
}

/** Publishes a copy of the fixture's version under another agent (current there: its first version). */
export async function publishAs(fixture: PublishedStore, agent: string): Promise<void> {
  const copy = join(fixture.dir, `as-${agent}`);
  await cp(fixture.versionPath, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as { metadata: Record<string, unknown> };
  await rm(join(copy, "manifest.json"));
  const metadataFile = join(fixture.dir, `as-${agent}.json`);
  await writeFile(
    metadataFile,
    JSON.stringify(Object.fromEntries(Object.entries(manifest.metadata).filter(([key]) => !STORE_KEYS.includes(key)))),
  );
  const run = runCli("model-store", [
    "publish",
    copy,
    "--agent",
    agent,
    "--root",
    fixture.store,
    "--version",
    fixture.version,
    "--metadata",
    `@${metadataFile}`,
    "--json",
  ]);
  if (run.status !== 0) throw new Error(`model-store publish exited ${run.status}:\n${run.stderr}`);
  await rm(copy, { recursive: true, force: true });
}
