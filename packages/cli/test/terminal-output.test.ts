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

describe("issue 19: the terminal shows the whole verdict", () => {
  it("never switches line wrapping off: a log line longer than the terminal is printed whole, not cut with a stray }", async () => {
    const tty = fakeTty();
    Object.assign(tty.stream, { columns: 60 });
    const terminal = new TerminalWriter(tty.stream);
    const log = createLogger({ json: false, level: "info", prettyDestination: terminal });
    const progress = new TerminalProgress(terminal, tty.stream);
    progress.update("accuracy", 1, 2);
    const message = "accuracy int8-qdq-onnx vs fp32-onnx logits at 64 held-out articles: cosine mean 0.90500, labels agree 84.5%";
    log.info({ stage: "accuracy", at: "held-out" }, message);
    progress.update("accuracy", 2, 2);
    await new Promise((r) => setTimeout(r, 20));
    progress.stop();
    expect(tty.text()).not.toContain("\x1b[?7l");
    expect(tty.text().split(String.fromCharCode(27)).join("")).toContain(message);
  });

  it("the build summary names each shape, the label agreement and the gate verdict", async () => {
    const { formatBuildSummary } = await import("../src/build-summary.js");
    const figure = {
      reference: "fp32-onnx",
      candidate: "int8-qdq-onnx",
      output: "logits",
      samples: 64,
      max_abs_diff: 0.1,
      cosine_mean: 0.905,
      cosine_min: 0.5,
      cosine_p01: 0.6,
      label_agreement: 0.845,
      label_decision: "argmax" as const,
    };
    const summary = formatBuildSummary({
      kind: "marker",
      reused: false,
      agent: "trt-news",
      version: "build-1",
      versionPath: "/store/trt-news/versions/build-1",
      engineName: "news.engine",
      current: { change: "unchanged", version: "build-0" },
      accuracy: [figure, { ...figure, samples: 32, shape: { name: "max", batch: 32, seq_len: 256 } }],
      accuracyGate: {
        verdict: "accepted",
        failed: ["x"],
        checks: [
          {
            form: "int8",
            candidate: "int8-qdq-onnx",
            output: "logits",
            at: "held-out",
            measure: "label agreement",
            value: 0.845,
            threshold: 0.98,
            passed: false,
          },
          {
            form: "cpu-serving",
            candidate: "cpu",
            output: "logits",
            at: "held-out",
            measure: "label agreement",
            value: 0.99,
            threshold: 0.98,
            passed: true,
          },
        ],
      },
    } as unknown as Parameters<typeof formatBuildSummary>[0]);
    expect(summary).toContain("accuracy gate: ACCEPTED with --accept-accuracy, 1 of 2 checks below the gate:");
    expect(summary).toContain("int8 logits at held-out: label agreement 84.5% < 98.0% FAILED");
    expect(summary).toContain(
      "int8-qdq-onnx logits on 64 held-out articles: cosine mean 0.90500 p01 0.60000 min 0.50000, labels agree 84.5%",
    );
    expect(summary).toContain("int8-qdq-onnx logits on the max [32, 256] shape:");
  });
});
