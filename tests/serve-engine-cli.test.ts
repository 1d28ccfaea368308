import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./cli-helpers.js";

const serve = (args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "packages/cli/bin/serve-engine.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn", MODEL_STORE_ROOT: "" },
    timeout: 60_000,
  });

let store: string;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), "trtforge-serve-cli-"));
});
afterAll(async () => rm(store, { recursive: true, force: true }));

describe("serve-engine command line", () => {
  it("--help lists every option", () => {
    const run = serve(["--help"]);
    expect(run.status).toBe(0);
    for (const flag of [
      "--store-root",
      "--model",
      "--canary",
      "--shadow",
      "--device-map",
      "--host",
      "--http-port",
      "--metrics-port",
      "--cpu-workers",
      "--max-queue",
      "--max-queue-delay-ms",
      "--ort-threads",
      "--require-tensorrt",
      "--onnx-variant",
      "--json",
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });

  it("refuses a missing store root or model as usage errors (exit 2), bad numbers as INVALID_LIMIT", () => {
    const noStore = serve(["--model", "trt-embeddings", "--json"]);
    expect(noStore.status).toBe(2);
    expect(JSON.parse(noStore.stdout).error).toMatchObject({ code: "USAGE", message: expect.stringMatching(/--store-root/) });
    const noModel = serve(["--store-root", store]);
    expect(noModel.status).toBe(2);
    expect(noModel.stderr).toMatch(/error\[USAGE\]: no model to serve/);
    const badWorkers = serve(["--store-root", store, "--model", "a", "--cpu-workers", "two"]);
    expect(badWorkers.status).toBe(11);
    expect(badWorkers.stderr).toMatch(/--cpu-workers must be a whole number, got "two"/);
    const badThreads = serve(["--store-root", store, "--model", "a", "--ort-threads", "0"]);
    expect(badThreads.status).toBe(11);
    expect(badThreads.stderr).toMatch(/ONNX Runtime threads must be a positive integer, got 0/);
    const badVariant = serve(["--store-root", store, "--model", "a", "--onnx-variant", "fp16"]);
    expect(badVariant.status).toBe(2);
    expect(badVariant.stderr).toMatch(/--onnx-variant.*fp16.*auto, fp32, int8, cpu/s);
  });

  it("refuses a malformed --canary or --shadow, or one for an agent not served, before starting any worker", () => {
    const noShare = serve(["--store-root", store, "--model", "news", "--canary", "news@v2", "--json"]);
    expect(noShare.status).toBe(11);
    expect(JSON.parse(noShare.stdout).error).toMatchObject({
      code: "INVALID_LIMIT",
      message: expect.stringMatching(/--canary "news@v2" needs a share/),
    });
    const noVersion = serve(["--store-root", store, "--model", "news", "--shadow", "news", "--json"]);
    expect(noVersion.status).toBe(12);
    expect(JSON.parse(noVersion.stdout).error).toMatchObject({ code: "INVALID_NAME" });
    const notServed = serve([
      "--store-root",
      store,
      "--model",
      "news",
      "--shadow",
      "sports@v2",
      "--http-port",
      "0",
      "--metrics-port",
      "0",
      "--json",
    ]);
    expect(notServed.status).toBe(14);
    expect(JSON.parse(notServed.stdout).error).toMatchObject({
      code: "INVALID_OPTION",
      message: expect.stringMatching(/"sports", which is not served/),
    });
  });

  it("an agent the store lacks fails the start with SERVER_WORKER_FAILED naming it", () => {
    const run = serve(["--store-root", store, "--model", "no-such-agent", "--http-port", "0", "--metrics-port", "0", "--json"]);
    expect(run.status).toBe(121);
    const error = JSON.parse(run.stdout.trim().split("\n").pop()!).error as { code: string; message: string };
    expect(error.code).toBe("SERVER_WORKER_FAILED");
    expect(error.message).toMatch(/no-such-agent/);
  });
});
