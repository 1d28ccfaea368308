import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exporterFingerprint, exporterSources, installedExporterFingerprint } from "../src/index.js";

let dir: string;
let sources: { pythonDir: string; driverDir: string };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-fingerprint-"));
  sources = { pythonDir: join(dir, "trtforge_export"), driverDir: join(dir, "dist") };
  await mkdir(join(sources.pythonDir, "__pycache__"), { recursive: true });
  await writeFile(join(sources.pythonDir, "run.py"), "print('export')\n");
  await mkdir(sources.driverDir);
  await writeFile(join(sources.driverDir, "export-model.js"), "export const a = 1;\n");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("exporterFingerprint: what the export stage's key holds instead of the git commit", () => {
  it("covers this installation's Python exporter and its driver, and is computed once per process", async () => {
    const installed = exporterSources();
    expect(installed.pythonDir).toMatch(/python\/trtforge_export$/);
    const fingerprint = await installedExporterFingerprint();
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await installedExporterFingerprint()).toBe(fingerprint);
    expect(await exporterFingerprint(installed)).toBe(fingerprint);
  });

  it("changes with the exporter's Python code and its driver, not with anything else", async () => {
    const before = await exporterFingerprint(sources);
    // Byte code, other files and other folders are not the exporter's source.
    await writeFile(join(sources.pythonDir, "__pycache__", "run.cpython-312.pyc"), "bytes");
    await writeFile(join(sources.pythonDir, "NOTES.txt"), "notes");
    await writeFile(join(sources.driverDir, "export-model.d.ts"), "export declare const a: number;");
    expect(await exporterFingerprint(sources)).toBe(before);

    await writeFile(join(sources.pythonDir, "run.py"), "print('export v2')\n");
    const python = await exporterFingerprint(sources);
    expect(python).not.toBe(before);
    await writeFile(join(sources.driverDir, "export-model.js"), "export const a = 2;\n");
    expect(await exporterFingerprint(sources)).not.toBe(python);
  });

  it("names the folder when the exporter's code is missing", async () => {
    const empty = join(dir, "empty");
    await cp(sources.driverDir, join(dir, "driver-copy"), { recursive: true });
    await mkdir(empty);
    await expect(exporterFingerprint({ pythonDir: empty, driverDir: join(dir, "driver-copy") })).rejects.toMatchObject({
      code: "PYTHON_UNAVAILABLE",
      input: empty,
    });
    await expect(exporterFingerprint({ pythonDir: join(dir, "absent"), driverDir: sources.driverDir })).rejects.toMatchObject({
      input: join(dir, "absent"),
    });
  });
});
