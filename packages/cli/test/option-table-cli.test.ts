import { describe, expect, it } from "vitest";
import { BUILD_OPTIONS, type BuildOptionRow } from "@trtforge/pipeline";
import { createBuildEngineProgram } from "../src/build-engine-cli.js";
import { exportCommand } from "../src/export-cli.js";

const rows = Object.values(BUILD_OPTIONS) as BuildOptionRow[];

describe("build-engine's options come from BUILD_OPTIONS", () => {
  it("has one option per row (and its aliases, hidden), with the row's help and choices", () => {
    const program = createBuildEngineProgram();
    const byFlag = new Map(program.options.map((o) => [o.long, o]));
    for (const row of rows) {
      const option = byFlag.get(row.flag);
      expect(option, row.flag).toBeDefined();
      expect(option!.description).toContain(row.help);
      // No commander default: an unset flag must reach the library unset, to be recorded as a default.
      expect(option!.defaultValue, row.flag).toBeUndefined();
      if (row.kind === "choice" && row.libraryChecked !== true) expect(option!.argChoices).toEqual([...row.choices]);
      for (const alias of row.aliases ?? []) expect(byFlag.get(alias)?.hidden, alias).toBe(true);
    }
  });

  it("export accepts the main names and keeps --samples and --seq-len as aliases, never both at once", async () => {
    const parse = async (...args: string[]) => {
      const command = exportCommand()
        .exitOverride()
        .action(() => undefined);
      command.configureOutput({ writeErr: () => undefined });
      await command.parseAsync(["--model", "m", "--out", "o", ...args], { from: "user" });
      return command.opts();
    };
    expect(await parse("--calibrate", "a.jsonl", "--sequence-length", "64")).toMatchObject({ calibrate: "a.jsonl", sequenceLength: "64" });
    expect(await parse("--samples", "a.jsonl", "--seq-len", "64")).toMatchObject({ samples: "a.jsonl", seqLen: "64" });
    await expect(parse("--samples", "a.jsonl", "--calibrate", "b.jsonl")).rejects.toThrow(/cannot be used with/);
    expect((await parse()).opset).toBeUndefined();
  });
});
