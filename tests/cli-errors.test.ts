import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printable, printableLines, toForgeError } from "@trtforge/core";
import { ROOT, runCli } from "./cli-helpers.js";

// Issue 19, item 10: how the command-line programs word their errors.
let dir: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-cli-errors-"));
  store = join(dir, "store");
  const source = join(dir, "source");
  await mkdir(source, { recursive: true });
  await writeFile(join(source, "config.json"), "{}");
  for (const version of ["v1", "v2"]) {
    const run = runCli("model-store", ["publish", "--root", store, "--agent", "a", "--version", version, source]);
    if (run.status !== 0) throw new Error(run.stderr);
  }
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** ESC, BEL, CR, DEL and the C1 range: what must never reach the terminal raw. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("control characters in names never reach the terminal raw", () => {
  it("are escaped where they are quoted, and wherever errors are printed", () => {
    expect(printable("a\u001b[31mred\u0007\nb\u009b")).toBe("a\\x1b[31mred\\x07\\nb\\x9b");
    expect(printableLines("line one\n\tline \u001b two")).toBe("line one\n\tline \\x1b two");
  });

  it("an agent name with ESC, BEL and a newline: exit 12, the name escaped, still two lines (error and fix)", () => {
    const name = "evil\u001b[2J\u0007\nerror[FAKE]: forged";
    const run = runCli("model-store", ["show", "--root", store, "--agent", name]);
    expect(run.status).toBe(12);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toContain('error[INVALID_NAME]: invalid agent name "evil\\x1b[2J\\x07\\nerror[FAKE]: forged"');
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}fix: /);
  });
});

describe("unknown options and other usage errors get the error[CODE] / fix: form", () => {
  it("an unknown option: exit 2, error[USAGE] naming it, and a fix naming the command's help", () => {
    const run = runCli("model-store", ["list", "--root", store, "--bogus"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error\[USAGE\]: unknown option '--bogus'/);
    expect(run.stderr).toContain("  fix: see model-store list --help");
    expect(run.stderr).not.toMatch(/^error: /m);
  });

  it("build-engine too", () => {
    const run = runCli("build-engine", ["gc", "--bogus"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error\[USAGE\]: unknown option '--bogus'/);
    expect(run.stderr).toContain("  fix: see build-engine gc --help");
  });
});

describe("model-store promote takes --agent like the other verbs; the positional form stays", () => {
  it("--agent with --version, --agent with a positional version, and both positional", () => {
    const named = runCli("model-store", ["promote", "--agent", "a", "--version", "v1", "--root", store, "--without-evidence", "--json"]);
    expect(named.status, named.stderr).toBe(0);
    expect(named.json()).toMatchObject({ ok: true, change: "promoted", current: "v1" });
    const mixed = runCli("model-store", ["promote", "--agent", "a", "v2", "--root", store, "--without-evidence", "--json"]);
    expect(mixed.status, mixed.stderr).toBe(0);
    expect(mixed.json()).toMatchObject({ current: "v2" });
    const positional = runCli("model-store", ["promote", "a", "v1", "--root", store, "--without-evidence"]);
    expect(positional.status, positional.stderr).toBe(0);
    expect(positional.stdout).toContain("a: current v2 -> v1");
  });

  it("a missing version or a name too many is a usage error", () => {
    const missing = runCli("model-store", ["promote", "--agent", "a", "--root", store]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("error[USAGE]: promote needs a version");
    const extra = runCli("model-store", ["promote", "--agent", "a", "v1", "v2", "--root", store]);
    expect(extra.status).toBe(2);
    expect(extra.stderr).toContain('error[USAGE]: promote got more names than it takes: "v2"');
  });
});

describe("a full disk is DISK_FULL (exit 26) with a fix, not an internal error", () => {
  it("maps ENOSPC and EDQUOT", () => {
    const error = toForgeError(
      Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", path: "out/model.engine" }),
    );
    expect(error).toMatchObject({ code: "DISK_FULL", exitCode: 26, input: "out/model.engine" });
    expect(error.fix).toContain("build-engine gc --max-size");
  });

  it("a real ENOSPC (a write to /dev/full) in a command prints error[DISK_FULL] and its fix, exit 26", () => {
    const script = `
      const { Command } = await import(${JSON.stringify(join(ROOT, "packages/cli/node_modules/commander/index.js"))}).then((m) => m.default ?? m);
      const { runCli } = await import(${JSON.stringify(join(ROOT, "packages/cli/dist/run.js"))});
      const { writeFile } = await import("node:fs/promises");
      const program = new Command("demo").action(async () => { await writeFile("/dev/full", "stage bytes"); });
      await runCli(program, ["node", "demo"]);
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(26);
    expect(run.stderr).toMatch(/^error\[DISK_FULL\]: writing a file: no space left on the device/);
    expect(run.stderr).toContain("  fix: free space there: build-engine gc --max-size");
  });
});
