import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MINILM, importMiniLm, runCli } from "./cli-helpers.js";
import { agNewsCsv } from "./support/ag-news.js";

let dir: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-preflight-"));
  store = join(dir, "store");
  await mkdir(store);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** A marker build of MiniLM with the given flags; each case gets its own work dir, which must stay absent. */
function build(name: string, flags: string[], env: NodeJS.ProcessEnv = {}) {
  const work = join(dir, `work-${name}`);
  const started = Date.now();
  const run = runCli(
    "build-engine",
    ["--model", MINILM, "--model-id", "sentence-transformers/all-MiniLM-L6-v2", "--work-dir", work, "--marker", "--json", ...flags],
    env,
  );
  return { ...run, work, ms: Date.now() - started };
}

describe("build-engine refuses bad input before export, leaving no work behind", () => {
  it.each<[string, () => Promise<string[]>, number, RegExp]>([
    ["a missing store root", async () => ["--store-root", join(dir, "absent")], 20, /does not exist[\s\S]*--store-root/],
    [
      "a store root that is a file",
      async () => {
        await writeFile(join(dir, "root-file"), "x");
        return ["--store-root", join(dir, "root-file")];
      },
      22,
      /is a file, not a folder[\s\S]*--store-root/,
    ],
    ["--held-out 0", async () => ["--store-root", store, "--held-out", "0"], 11, /--held-out must be from 1/],
    [
      "--calibration-samples 0",
      async () => ["--store-root", store, "--precision", "int8", "--calibration-samples", "0"],
      11,
      /--calibration-samples must be from 1/,
    ],
    [
      "--percentile that is not a number (the same code as --seed)",
      async () => ["--store-root", store, "--percentile", "high"],
      11,
      /--percentile must be a number/,
    ],
    [
      "a binary file as articles",
      async () => {
        await writeFile(join(dir, "program"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0, 0xff]));
        return ["--store-root", store, "--calibrate", join(dir, "program")];
      },
      89,
      /no usable article.*binary file/,
    ],
    [
      "a CSV that is only its header",
      async () => {
        await writeFile(join(dir, "header.csv"), "label,title,description\n");
        return ["--store-root", store, "--calibrate", join(dir, "header.csv")];
      },
      89,
      /no usable article/,
    ],
    [
      "fewer articles than --calibration-samples + --held-out",
      async () => [
        "--store-root",
        store,
        "--precision",
        "int8",
        "--calibrate",
        agNewsCsv(),
        "--calibration-samples",
        "7000",
        "--held-out",
        "700",
      ],
      89,
      /7600 usable article\(s\).*needs 7700/,
    ],
    [
      "malformed rows with --strict-articles",
      async () => {
        await writeFile(
          join(dir, "bad.jsonl"),
          `${Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `article ${i}` })).join("\n")}\nnot json\n`,
        );
        return ["--store-root", store, "--calibrate", join(dir, "bad.jsonl"), "--held-out", "5", "--strict-articles"];
      },
      89,
      /1 malformed row\(s\).*bad\.jsonl:31/,
    ],
    [
      "weak typing for TensorRT 11",
      async () => ["--store-root", store, "--typing", "weak", "--trt-version", "11.1.0"],
      103,
      /TensorRT 11 removed weak typing/,
    ],
    [
      "an optimum above the maximum",
      async () => ["--store-root", store, "--sequence-length", "64"],
      11,
      /opt_seq_len 128 \(models\.yaml entry embeddings\) is above --sequence-length 64/,
    ],
  ])("%s", async (name, flags, exitCode, message) => {
    const run = build(name.replace(/\W+/g, "-"), await flags());
    expect(run.status, run.stderr).toBe(exitCode);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\bINTERNAL\b|USAGE/);
    expect(existsSync(run.work), `${run.work} was created: work started before the check`).toBe(false);
  });

  it("without --store-root or MODEL_STORE_ROOT, says so at once", () => {
    const run = build("no-root", [], { MODEL_STORE_ROOT: "" });
    expect(run.status, run.stderr).toBe(58);
    expect(run.stderr).toMatch(/--store-root/);
    expect(existsSync(run.work)).toBe(false);
  });

  it("refuses a damaged ModelStore model naming the first bad file, before any stage", async () => {
    const imported = importMiniLm(store);
    expect(imported.status, imported.stderr).toBe(0);
    const versionPath = String(imported.json().path);
    const files = await readdir(versionPath, { recursive: true });
    const vocab = files.find((f) => f.endsWith("vocab.txt"))!;
    // Replaced, not edited in place: the copy in .tools/models must stay intact whatever the store did.
    await writeFile(join(dir, "vocab.txt"), "[PAD]\n[UNK]\n");
    await rename(join(dir, "vocab.txt"), join(versionPath, vocab));
    const work = join(dir, "work-damaged");
    const run = runCli("build-engine", ["--model", "store:memory", "--store-root", store, "--work-dir", work, "--marker"]);
    expect(run.status, run.stderr).toBe(66);
    expect(run.stderr).toMatch(/is damaged: first bad file .*vocab\.txt/);
    expect(run.stderr).not.toMatch(/set pad_token|edit/);
    expect(existsSync(work)).toBe(false);
  });
});
