import { PassThrough } from "node:stream";
import { createLogger } from "@trtforge/core";
import { describe, expect, it } from "vitest";
import { TerminalProgress } from "../src/progress.js";
import { TerminalWriter } from "../src/terminal.js";
import { renderScreen } from "./ansi-screen.js";

/** A stream that says it is a terminal, as process.stderr does on one, and keeps what was written. */
function fakeTty(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40 });
  let written = "";
  stream.on("data", (chunk: Buffer) => (written += chunk.toString("utf8")));
  return { stream, text: () => written };
}

describe("terminal output: one writer owns stderr", () => {
  it("prints log lines above the progress bars, never inside a bar line, and loses none at stop", async () => {
    const tty = fakeTty();
    const terminal = new TerminalWriter(tty.stream);
    const log = createLogger({ json: false, level: "info", prettyDestination: terminal });
    const progress = new TerminalProgress(terminal, tty.stream);
    for (let i = 1; i <= 16; i++) {
      progress.update("articles", i, 16);
      if (i % 4 === 0) log.info({ done: i, detail: { nested: { object: true } } }, `checkpoint ${i}`);
      await new Promise((r) => setTimeout(r, 30));
    }
    log.info("right before stop");
    progress.stop();
    log.info("after stop");
    await new Promise((r) => setTimeout(r, 20));

    const lines = renderScreen(tty.text()).filter((l) => l.trim() !== "");
    const logLines = lines.filter((l) => /checkpoint \d+|right before stop|after stop/.test(l));
    expect(logLines.map((l) => l.match(/checkpoint \d+|right before stop|after stop/)![0])).toEqual([
      "checkpoint 4",
      "checkpoint 8",
      "checkpoint 12",
      "checkpoint 16",
      "right before stop",
      "after stop",
    ]);
    for (const line of logLines) {
      expect(line).not.toContain("|"); // no bar drawn into a log line
      expect(line).not.toMatch(/\d+\/16/);
    }
    // The nested object stays on the record's own line.
    expect(logLines[0]).toContain('"nested"');
    // What stays on screen: the log lines in order, then the finished bar, then the line logged after it.
    const barLines = lines.filter((l) => l.includes("articles"));
    expect(barLines).toHaveLength(1);
    expect(barLines[0]).toMatch(/^ articles +\|█+\| 16\/16/);
    expect(lines.indexOf(barLines[0]!)).toBe(lines.length - 2);
  });

  it("writes straight through when no bars are on screen", () => {
    const tty = fakeTty();
    const terminal = new TerminalWriter(tty.stream);
    terminal.write("plain line\n");
    expect(tty.text()).toBe("plain line\n");
  });
});
