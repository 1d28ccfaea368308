import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVersion } from "../packages/runtime/test/fixtures.js";
import { ROOT } from "./cli-helpers.js";

const serve = (args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "packages/cli/bin/serve-engine.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn", MODEL_STORE_ROOT: "" },
    timeout: 120_000,
  });

let dir: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-serve-gpu-"));
  store = join(dir, "store");
  await publishVersion({ root: store, agent: "embed", version: "v1" });
}, 600_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("serve-engine --require-gpu", () => {
  it("is listed, and --onnx-variant takes gpu", () => {
    const run = serve(["--help"]);
    expect(run.stdout).toContain("--require-gpu");
    expect(run.stdout).toMatch(/--onnx-variant[\s\S]*gpu/);
  });

  it("on a host without a usable GPU refuses to start rather than serve on the CPU: GPU_REQUIRED with the reason", () => {
    const run = serve(["--store-root", store, "--model", "embed", "--http-port", "0", "--metrics-port", "0", "--require-gpu", "--json"]);
    expect(run.status).toBe(121);
    const error = JSON.parse(run.stdout.trim().split("\n").pop()!).error as { code: string; message: string };
    expect(error.code).toBe("SERVER_WORKER_FAILED");
    expect(error.message).toMatch(/\[GPU_REQUIRED\] embed@v1 would serve on the CPU \(CUDA_DEVICE_UNAVAILABLE: /);
  }, 180_000);
});
