import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger } from "@trtforge/core";
import { runOptimizer } from "../src/index.js";

/** A stand-in for the Python interpreter: a shell script that prints `lines` and exits with `status`, whatever its arguments. */
async function fakePython(dir: string, name: string, lines: string[], status = 0): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${lines.map((l) => `printf '%s\\n' '${l}'`).join("\n")}\nexit ${status}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("runOptimizer (the CPU- and GPU-serving optimizers' one driver)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "trtforge-run-optimizer-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const run = (python: string) =>
    runOptimizer({
      module: "trtforge_export.cpu_serving",
      args: [],
      report: z.object({ file: z.string() }),
      label: "CPU-serving",
      input: join(dir, "model.onnx"),
      timeoutMs: 60_000,
      logger: silentLogger(),
      python,
    });

  it("returns the report of the result line", async () => {
    const python = await fakePython(dir, "ok", [
      '{"type":"progress","stage":"fuse","current":1,"total":2}',
      '{"type":"result","report":{"file":"m.cpu.onnx"}}',
    ]);
    await expect(run(python)).resolves.toEqual({ file: "m.cpu.onnx" });
  });

  it("turns the child's error line into EXPORT_CHILD_FAILED with its fix", async () => {
    const python = await fakePython(
      dir,
      "error",
      ['{"type":"error","code":"BAD_INPUT","message":"the ONNX x does not exist","fix":"run the export stage first"}'],
      2,
    );
    await expect(run(python)).rejects.toMatchObject({
      code: "EXPORT_CHILD_FAILED",
      message: expect.stringMatching(
        new RegExp(`^CPU-serving optimization of ${escapeRegExp(join(dir, "model.onnx"))}: the ONNX x does not exist`),
      ),
      fix: "run the export stage first",
    });
  });

  it("names output that is not the protocol EXPORT_PROTOCOL", async () => {
    const python = await fakePython(dir, "garbage", ["Segmentation fault"], 1);
    await expect(run(python)).rejects.toMatchObject({
      code: "EXPORT_PROTOCOL",
      message: expect.stringContaining("not JSON: Segmentation fault"),
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
