import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ForgeError, projectRoot } from "@trtforge/core";
import semver from "semver";
import { afterAll, describe, expect, it } from "vitest";
import { defaultToolchainPath, parseToolchain, readToolchain } from "../src/index.js";
import { thrown } from "../../../tests/support/errors.js";
import { TOOLCHAIN_MD } from "../../../tests/support/toolchain-fixture.js";

const HEADER = "| component | pinned | accepted | last exercised | how |\n|---|---|---|---|---|\n";

function parseError(text: string): ForgeError {
  return thrown(() => parseToolchain(text, "/tmp/tv.md"));
}

const tempDir = mkdtempSync(join(tmpdir(), "hostcheck-toolchain-"));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe("readToolchain on the repository's file", () => {
  it("reads toolchain_versions.md at the project root by default", () => {
    expect(defaultToolchainPath()).toBe(join(projectRoot(), "toolchain_versions.md"));
    const toolchain = readToolchain();
    for (const component of [
      "node",
      "pnpm",
      "python",
      "torch",
      "transformers",
      "onnx",
      "onnxruntime",
      "onnxscript",
      "onnxruntime-node",
      "cuda",
      "tensorrt-10",
      "tensorrt-11",
    ]) {
      const entry = toolchain.get(component);
      expect(entry, component).toBeDefined();
      expect(semver.validRange(entry!.accepted), `${component} accepted`).not.toBeNull();
      expect(entry!.line).toBeGreaterThan(1);
    }
  });

  it("unescapes the node row's \\| into a range Node 20.20.2 and 24 satisfy and 21 does not", () => {
    const node = readToolchain().get("node")!;
    expect(node.accepted).not.toContain("\\");
    expect(node.accepted).toContain("||");
    expect(semver.satisfies("20.20.2", node.accepted)).toBe(true);
    expect(semver.satisfies("24.1.0", node.accepted)).toBe(true);
    expect(semver.satisfies("21.7.0", node.accepted)).toBe(false);
  });
});

describe("parseToolchain", () => {
  it("returns every cell of a row with its line number", () => {
    const toolchain = parseToolchain(TOOLCHAIN_MD, "fixture.md");
    expect(toolchain.get("torch")).toEqual({
      component: "torch",
      pinned: "2.13.0",
      accepted: "2.13.0",
      lastExercised: "—",
      how: "never run",
      line: 7,
    });
    expect(toolchain.get("node")?.accepted).toBe("^20.19.0 || ^22.12.0 || >=24.0.0");
    expect(toolchain.size).toBe(11);
  });

  it("keeps an escaped pipe inside its cell instead of starting a new one", () => {
    const toolchain = parseToolchain(`${HEADER}| \`tool\` | 1.0.0 | ^1.0.0 \\|\\| ^2.0.0 | — | a \\| b |\n`, "x.md");
    expect(toolchain.get("tool")).toMatchObject({ accepted: "^1.0.0 || ^2.0.0", how: "a | b" });
  });

  it("stops at the end of the table and ignores text after it", () => {
    const toolchain = parseToolchain(`intro\n\n${HEADER}| \`a\` | 1.0.0 | 1.0.0 | — | x |\n\nNotes:\n| not | a | row |\n`, "x.md");
    expect([...toolchain.keys()]).toEqual(["a"]);
  });

  it("rejects a row with the wrong number of cells, naming file, line and fix", () => {
    const err = parseError(`# T\n\n${HEADER}| \`a\` | 1.0.0 | 1.0.0 | — | x |\n| \`b\` | 1.0.0 | 1.0.0 | — |\n`);
    expect(err.code).toBe("TOOLCHAIN_UNREADABLE");
    expect(err.message).toContain("/tmp/tv.md:6");
    expect(err.message).toContain("4 cells, expected 5");
    expect(err.fix).toContain("line 6");
    expect(err.details).toEqual({ line: 6 });
  });

  it("rejects an unescaped pipe inside the accepted cell as a wrong cell count", () => {
    const err = parseError(`${HEADER}| \`node\` | 20.0.0 | ^20.0.0 || ^22.0.0 | — | x |\n`);
    expect(err.message).toMatch(/:3: the row has 7 cells/);
  });

  it("rejects an invalid semver range", () => {
    const err = parseError(`${HEADER}| \`a\` | 1.0.0 | 1.0.0 | — | x |\n| \`cuda\` | 13.0 | newer than 12 | — | x |\n`);
    expect(err.code).toBe("TOOLCHAIN_UNREADABLE");
    expect(err.message).toBe('/tmp/tv.md:4: `cuda` has the accepted range "newer than 12", which is not a valid semver range');
    expect(err.fix).toContain("line 4 of /tmp/tv.md");
  });

  it("rejects an empty accepted cell rather than reading it as *", () => {
    expect(parseError(`${HEADER}| \`a\` | 1.0.0 |  | — | x |\n`).message).toContain('accepted range ""');
  });

  it("rejects a component without backticks and a component listed twice", () => {
    expect(parseError(`${HEADER}| node | 1.0.0 | 1.0.0 | — | x |\n`).message).toContain("not a name in backticks");
    const twice = parseError(`${HEADER}| \`a\` | 1.0.0 | 1.0.0 | — | x |\n| \`a\` | 2.0.0 | 2.0.0 | — | x |\n`);
    expect(twice.message).toBe("/tmp/tv.md:4: `a` is listed twice (also on line 3)");
  });

  it("rejects text without a table, a header with other columns and a table without rows", () => {
    expect(parseError("# Toolchain versions\n\nno table here\n").message).toContain('no table whose first column is "component"');
    expect(parseError("| component | pinned | accepted | how |\n|---|---|---|---|\n").message).toContain(":1: the table header is");
    expect(parseError(`${HEADER}\nafter\n`).message).toContain("has no rows");
    expect(parseError("| component | pinned | accepted | last exercised | how |\n| `a` | 1 | 1 | — | x |\n").message).toContain(
      ":2: the line after the table header is not a |---| separator",
    );
  });
});

describe("readToolchain on other files", () => {
  it("reports a missing file as TOOLCHAIN_UNREADABLE naming the path and a fix", () => {
    const missing = join(tempDir, "nope.md");
    const err = thrown(() => readToolchain(missing));
    expect(err.code).toBe("TOOLCHAIN_UNREADABLE");
    expect(err.message).toContain(missing);
    expect(err.input).toBe(missing);
    expect(err.fix).toContain("toolchain_versions.md");
  });

  it("reads a file given by path", () => {
    const path = join(tempDir, "tv.md");
    writeFileSync(path, TOOLCHAIN_MD);
    expect(readToolchain(path).get("cuda")?.accepted).toBe(">=12.0.0");
  });
});
