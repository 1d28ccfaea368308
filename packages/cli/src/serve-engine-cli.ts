import { Command, Option } from "commander";
import { createLogger, ForgeError } from "@trtforge/core";
import { ONNX_VARIANTS, type OnnxVariant } from "@trtforge/runtime";
import { parseCanaryRef, parseShadowRef, startServer } from "@trtforge/server";
import { parseInteger } from "./parse-options.js";
import { storeRootFromFlag } from "./store-root-flag.js";
import { runCli } from "./run.js";
import { CLI_VERSION } from "./version.js";

interface ServeCliOptions {
  storeRoot?: string;
  model: string[];
  canary: string[];
  shadow: string[];
  deviceMap?: string;
  host: string;
  httpPort: string;
  metricsPort: string;
  cpuWorkers: string;
  maxQueue?: string;
  maxQueueDelayMs?: string;
  ortThreads?: string;
  drainTimeoutMs: string;
  headerTimeoutMs: string;
  bodyTimeoutMs: string;
  requireTensorrt?: boolean;
  requireGpu?: boolean;
  onnxVariant: OnnxVariant;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function createServeEngineProgram(): Command {
  return new Command("serve-engine")
    .description(
      "Serve published ModelStore versions over the Open Inference Protocol (KServe v2, tritonclient-compatible): one worker per GPU, ONNX Runtime fallback, dynamic batching, hot swap, Prometheus metrics",
    )
    .version(CLI_VERSION)
    .option("--store-root <dir>", "ModelStore root (default: $MODEL_STORE_ROOT)")
    .option(
      "--model <agent[@version]>",
      "agent to serve: its current version (followed across publishes and rollbacks), or a pinned version; repeat for more",
      collect,
      [],
    )
    .option(
      "--canary <agent@version=percent>",
      "send that share of the agent's requests to a candidate version (by request id when the request has one, else at random); responses name the version that served them; repeat for other agents",
      collect,
      [],
    )
    .option(
      "--shadow <agent@version>",
      "run a candidate version on every request of the agent after the primary has answered, recording agreement, cosine and |Δ confidence| as metrics; it sheds its work when the host is busy",
      collect,
      [],
    )
    .option("--device-map <file>", "engine-to-GPU map (default: conf/engine_device_map.yaml); used only where GPUs are present")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--http-port <n>", "inference port (0: any free port)", "8000")
    .option("--metrics-port <n>", "Prometheus /metrics port (0: any free port)", "8002")
    .option("--cpu-workers <n>", "worker processes when no GPU can be used", "1")
    .option("--max-queue <n>", "requests waiting per model beyond which new ones get 503 (default 128)")
    .option(
      "--max-queue-delay-ms <n>",
      "how long a request may wait for others to join its batch when its model is idle (default 0: batches form while the model is busy)",
    )
    .option(
      "--ort-threads <n>",
      "ONNX Runtime intra-op threads per worker (default: on 8 or more cores, all but 2, spinning between runs; below that, ONNX Runtime's own, not spinning)",
    )
    .option("--drain-timeout-ms <n>", "on SIGTERM/SIGINT, how long requests in flight may take to finish", "30000")
    .option("--header-timeout-ms <n>", "a request's headers not complete this long after it starts: 408, connection closed", "30000")
    .option("--body-timeout-ms <n>", "a request body that sends nothing this long: 408 with a JSON error, connection closed", "30000")
    .option("--require-tensorrt", "refuse to serve a model whose engine cannot be loaded, instead of falling back to ONNX Runtime")
    .option(
      "--require-gpu",
      "refuse to serve a model on the CPU: where its engine cannot load, ONNX Runtime's CUDA provider must (no CPU fallback)",
    )
    .addOption(
      new Option(
        "--onnx-variant <v>",
        "the ONNX the ONNX Runtime fallback serves: auto (on a GPU worker's CUDA provider model.gpu.onnx, else fp32; on the CPU model.cpu.onnx, else the Q/DQ int8, else fp32), fp32, int8 (Q/DQ), cpu or gpu",
      )
        .choices([...ONNX_VARIANTS])
        .default("auto"),
    )
    .option("--json", "JSON log lines on stderr even on a terminal, and one JSON line on stdout once serving")
    .action(async (opts: ServeCliOptions) => {
      const storeRoot = storeRootFromFlag(opts.storeRoot, "--store-root");
      if (opts.model.length === 0) {
        throw new ForgeError("USAGE", "no model to serve: pass --model <agent>[@<version>] at least once", {
          input: "--model",
          fix: "e.g. --model trt-embeddings",
        });
      }
      const candidates = [...opts.canary.map(parseCanaryRef), ...opts.shadow.map(parseShadowRef)];
      const logger = createLogger({ name: "serve-engine", ...(opts.json ? { json: true } : {}) });
      const server = await startServer({
        storeRoot,
        models: opts.model,
        candidates,
        ...(opts.deviceMap === undefined ? {} : { deviceMap: opts.deviceMap }),
        host: opts.host,
        httpPort: parseInteger(opts.httpPort, "--http-port"),
        metricsPort: parseInteger(opts.metricsPort, "--metrics-port"),
        cpuWorkers: parseInteger(opts.cpuWorkers, "--cpu-workers"),
        ...(opts.maxQueue === undefined ? {} : { maxQueue: parseInteger(opts.maxQueue, "--max-queue") }),
        ...(opts.maxQueueDelayMs === undefined ? {} : { maxQueueDelayMs: parseInteger(opts.maxQueueDelayMs, "--max-queue-delay-ms") }),
        ...(opts.ortThreads === undefined ? {} : { ortThreads: parseInteger(opts.ortThreads, "--ort-threads") }),
        drainTimeoutMs: parseInteger(opts.drainTimeoutMs, "--drain-timeout-ms"),
        headerTimeoutMs: parseInteger(opts.headerTimeoutMs, "--header-timeout-ms"),
        bodyTimeoutMs: parseInteger(opts.bodyTimeoutMs, "--body-timeout-ms"),
        requireTensorrt: opts.requireTensorrt === true,
        requireGpu: opts.requireGpu === true,
        onnxVariant: opts.onnxVariant,
        serverVersion: CLI_VERSION,
        logger,
        ...(opts.json ? { jsonLogs: true } : {}),
      });
      const summary = { url: server.url, metrics_url: server.metricsUrl, workers: server.workers() };
      process.stdout.write(
        opts.json ? `${JSON.stringify({ ok: true, serving: summary })}\n` : `serving on ${server.url} (metrics ${server.metricsUrl})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, "draining: no new requests, finishing those in flight");
          process.once(signal, () => process.exit(130));
          void server.close().then(resolve);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}

export async function runServeEngineCli(argv: readonly string[] = process.argv): Promise<void> {
  await runCli(createServeEngineProgram(), argv);
}
