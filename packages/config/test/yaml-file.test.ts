import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDeviceMap, loadModelsConfig, locatePath, readYamlFile } from "../src/index.js";
import { expectForgeError, lineOf, makeTempDir, removeTempDir, writeText } from "./helpers.js";

let dir: string | undefined;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
  dir = undefined;
});

const isRoot = process.getuid?.() === 0;

describe("reading the file", () => {
  it("reports a missing file with FILE_NOT_FOUND", async () => {
    const path = join(dir!, "absent.yaml");
    await expectForgeError(loadModelsConfig(path), { code: "FILE_NOT_FOUND", exitCode: 20, file: path });
  });

  it("reports a directory given instead of a file with NOT_A_FILE", async () => {
    const path = join(dir!, "models.yaml");
    await mkdir(path);
    const error = await expectForgeError(loadDeviceMap(path), { code: "NOT_A_FILE", exitCode: 21, file: path });
    expect(error.fix).toBe("pass the path of a file");
  });

  // root reads a chmod 000 file anyway, so this case can only be exercised as another user; the
  // directory case above covers the same "cannot read it as a file" path when tests run as root.
  it.skipIf(isRoot)("reports an unreadable file with FILE_UNREADABLE", async () => {
    const path = await writeText(dir!, "models.yaml", "version: 1\n");
    await chmod(path, 0o000);
    await expectForgeError(loadModelsConfig(path), { code: "FILE_UNREADABLE", exitCode: 23, file: path });
  });
});

describe("parsing the YAML", () => {
  it("reports malformed YAML with YAML_MALFORMED at the line of the error", async () => {
    const text = "version: 1\nmodels:\n  - task: a\n    inputs: [input_ids, attention_mask\n    agent: x\n";
    const path = await writeText(dir!, "models.yaml", text);
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "YAML_MALFORMED",
      exitCode: 30,
      file: path,
      line: lineOf(text, "agent: x"),
    });
    expect(error.message).toContain("YAML syntax error");
    expect(error.message).not.toContain("fix:");
    expect(error.fix).toMatch(/.+/);
  });

  it("reports a second YAML document as malformed", async () => {
    const text = "version: 1\n---\nversion: 2\n";
    const path = await writeText(dir!, "models.yaml", text);
    const error = await expectForgeError(readYamlFile(path, "reading"), {
      code: "YAML_MALFORMED",
      exitCode: 30,
      file: path,
      line: lineOf(text, "---"),
    });
    expect(error.fix).toContain("---");
  });

  it("reports a duplicate key with DUPLICATE_KEY at the repeated key, naming the first", async () => {
    const text = "version: 1\nmodels:\n  - task: a\n    agent: x\n    seq_len: 8\n    agent: y\n";
    const path = await writeText(dir!, "models.yaml", text);
    const error = await expectForgeError(loadModelsConfig(path), {
      code: "DUPLICATE_KEY",
      exitCode: 33,
      file: path,
      line: lineOf(text, "agent: y"),
      keyPath: "models[0].agent",
    });
    expect(error.message).toContain(`already set at line ${lineOf(text, "agent: x")}`);
  });
});

describe("locatePath", () => {
  const text = "version: 1\nmodels:\n  - task: a\n    max_batch_size: 0\n  - task: b\n";

  it("points at the node of a zod issue path", async () => {
    const file = await readYamlFile(await writeText(dir!, "m.yaml", text), "reading");
    expect(locatePath(file, ["models", 0, "max_batch_size"])).toEqual({ line: 4, col: 21, exact: true, sourceText: "0" });
    expect(locatePath(file, ["models", 0, "max_batch_size"], "key")).toMatchObject({ line: 4, col: 5 });
  });

  it("falls back to the nearest existing parent for a missing key", async () => {
    const file = await readYamlFile(await writeText(dir!, "m.yaml", text), "reading");
    expect(locatePath(file, ["models", 1, "seq_len"])).toEqual({ line: 5, col: 5, exact: false, sourceText: undefined });
    expect(locatePath(file, ["models", 7, "task"])).toMatchObject({ line: 3, exact: false });
  });
});
