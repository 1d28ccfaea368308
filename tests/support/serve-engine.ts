/**
 * Real serve-engine processes for the end-to-end tests: a store published by build-engine (marker
 * engine, every other stage real), the CLI started on free loopback ports, and small HTTP clients.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runWorkDir } from "./shared-work.js";

export const ROOT = join(import.meta.dirname, "..", "..");
export const MINILM = join(ROOT, ".tools/models/all-MiniLM-L6-v2");
const BIN = join(ROOT, "packages/cli/bin");
export const AGENT = "trt-embeddings";
const STORE_KEYS = ["created_at", "files", "file_count", "total_bytes", "publisher", "staging", "promotions"];

function cli(command: string, args: string[], timeout = 600_000): string {
  const run = spawnSync(process.execPath, [join(BIN, `${command}.js`), ...args], {
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn" },
    timeout,
  });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${run.status}:\n${run.stderr}`);
  return run.stdout;
}

export interface PublishedStore {
  dir: string;
  store: string;
  /** The version build-engine published. */
  version: string;
  versionPath: string;
  cleanup(): Promise<void>;
}

/**
 * build-engine --marker --cpu-serving off publishes MiniLM (fp32 ONNX, marker engine, metadata,
 * tokenizer/) into a temporary store: the tests serve exactly what the pipeline published.
 */
export async function publishMiniLm(): Promise<PublishedStore> {
  const dir = await mkdtemp(join(tmpdir(), "trtforge-serve-"));
  const store = join(dir, "store");
  await mkdir(store);
  const built = JSON.parse(
    cli("build-engine", [
      "--model",
      MINILM,
      "--model-id",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--revision",
      "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
      "--marker",
      "--precision",
      "fp32",
      "--max-batch",
      "16",
      "--sequence-length",
      "128",
      // These tests compare what is served with onnxruntime on model.onnx, exactly: no CPU-serving
      // (int8) ONNX, which the runtime's auto choice would serve instead.
      "--cpu-serving",
      "off",
      "--store-root",
      store,
      // The run's shared work dir: the suites publishing this same build take turns there and reuse its stages.
      "--work-dir",
      runWorkDir(),
      "--json",
    ]),
  ) as { versionPath: string };
  if (!(await readdir(built.versionPath)).includes("tokenizer"))
    throw new Error(`build-engine published no tokenizer/ in ${built.versionPath}: the runtime cannot serve it`);
  const version = built.versionPath.split("/").pop() ?? "";
  return { dir, store, version, versionPath: built.versionPath, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Publishes a copy of a version as a new version (current moves to it: model-store publish's default). */
export async function republish(
  dir: string,
  store: string,
  versionPath: string,
  version: string,
): Promise<{ version: string; path: string }> {
  const copy = join(dir, `copy-${version}`);
  await cp(versionPath, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, "manifest.json"), "utf8")) as { metadata: Record<string, unknown> };
  await rm(join(copy, "manifest.json"));
  const metadata = Object.fromEntries(Object.entries(manifest.metadata).filter(([key]) => !STORE_KEYS.includes(key)));
  const metadataFile = join(dir, `metadata-${version}.json`);
  await writeFile(metadataFile, JSON.stringify(metadata));
  cli("model-store", [
    "publish",
    copy,
    "--agent",
    AGENT,
    "--root",
    store,
    "--version",
    version,
    "--metadata",
    `@${metadataFile}`,
    "--json",
  ]);
  await rm(copy, { recursive: true, force: true });
  return { version, path: join(store, AGENT, "versions", version) };
}

export function rollback(store: string): void {
  cli("model-store", ["rollback", "--agent", AGENT, "--root", store, "--json"]);
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  workers: { name: string; pid: number; role: "primary" | "shadow" }[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Starts the serve-engine CLI on free ports serving `model` (default the agent's current); resolves once it printed that it is serving. */
export async function startServeEngine(store: string, extraArgs: string[] = [], model: string = AGENT): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      join(BIN, "serve-engine.js"),
      "--store-root",
      store,
      "--model",
      model,
      "--http-port",
      "0",
      "--metrics-port",
      "0",
      "--json",
      ...extraArgs,
    ],
    { env: { ...process.env, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    void exited.then(({ code }) => reject(new Error(`serve-engine exited ${code} before serving:\n${stderr}`)));
  });
  const serving = (JSON.parse(line) as { serving: { url: string; metrics_url: string; workers: ServeProcess["workers"] } }).serving;
  return {
    child,
    url: serving.url,
    metricsUrl: serving.metrics_url,
    workers: serving.workers,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface InferAnswer {
  status: number;
  version: string | undefined;
  error: string | undefined;
  /** Milliseconds from sending to the answer. */
  ms: number;
  at: number;
}

/** One JSON infer request of `texts`; network errors are answers too (status 0). */
export async function inferTexts(url: string, texts: string[]): Promise<InferAnswer> {
  const started = Date.now();
  try {
    const response = await fetch(`${url}/v2/models/${AGENT}/infer`, {
      method: "POST",
      body: JSON.stringify({
        parameters: { truncate: true },
        inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
        outputs: [{ name: "sentence_embedding" }],
      }),
    });
    const json = (await response.json()) as { parameters?: { version?: string }; error?: string };
    return { status: response.status, version: json.parameters?.version, error: json.error, ms: Date.now() - started, at: started };
  } catch (err) {
    return { status: 0, version: undefined, error: String(err), ms: Date.now() - started, at: started };
  }
}

/** `clients` loops sending requests until stop() is called; returns every answer. */
export function loadLoop(url: string, clients: number, texts: string[]): { stop(): Promise<InferAnswer[]>; answers: InferAnswer[] } {
  const answers: InferAnswer[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; running; i += 1) {
      const start = (client * 7 + i * 3) % texts.length;
      answers.push(await inferTexts(url, texts.slice(start, start + 4)));
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
