import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { Logger } from "@trtforge/core";
import { stderrTerminal, type TerminalWriter } from "./terminal.js";

/**
 * Progress of long stages (export, calibration batches, TensorRT build phases). On a terminal:
 * one bar per stage on stderr, drawn through the terminal writer that the logger also writes to,
 * so log lines appear above the bars and never inside them. Elsewhere (CI, pipes): a log line when
 * a stage starts, at each tenth of the way and when it ends, so JSON logs stay readable.
 */
export interface ProgressDisplay {
  update(stage: string, current: number, total: number, message?: string): void;
  stop(): void;
}

export class TerminalProgress implements ProgressDisplay {
  private readonly bars = new Map<string, SingleBar>();
  private readonly multi: MultiBar;
  private stopped = false;

  constructor(
    private readonly terminal: TerminalWriter = stderrTerminal,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.multi = new MultiBar(
      // The stage name gets its own padded column and a space, so a long name never runs into the count.
      // forceRedraw: a bar is drawn again below each log line even when its value did not change.
      {
        format: " {stage} |{bar}| {value}/{total} {message}",
        stream,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        forceRedraw: true,
        // true: the terminal keeps wrapping long log lines (false would switch wrapping off for the
        // whole screen, cutting every log line at the width with its last character, often "}",
        // overwritten in the last column); only the bars are trimmed to the width.
        linewrap: true,
      },
      Presets.shades_classic,
    );
  }

  update(stage: string, current: number, total: number, message = ""): void {
    if (this.stopped) return;
    let bar = this.bars.get(stage);
    const label = stage.length >= 12 ? stage : stage.padEnd(12);
    if (!bar) {
      bar = this.multi.create(total, 0, { stage: label, message });
      this.bars.set(stage, bar);
      this.terminal.attach(this.multi);
    }
    bar.setTotal(total);
    bar.update(current, { stage: label, message });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Later log lines go straight to the stream; those waiting for the next redraw are printed now.
    this.terminal.detach(this.multi);
    if (this.multi.isActive) this.multi.update();
    this.multi.stop();
  }
}

class LogProgress implements ProgressDisplay {
  private readonly lastTenth = new Map<string, number>();
  constructor(private readonly log: Logger) {}

  update(stage: string, current: number, total: number, message?: string): void {
    const tenth = total > 0 ? Math.floor((current / total) * 10) : 10;
    if (this.lastTenth.get(stage) === tenth) return;
    this.lastTenth.set(stage, tenth);
    this.log.info({ stage, current, total, ...(message ? { detail: message } : {}) }, `${stage} ${current}/${total}`);
  }

  stop(): void {}
}

export function createProgress(log: Logger, interactive = process.stderr.isTTY === true): ProgressDisplay {
  return interactive ? new TerminalProgress() : new LogProgress(log);
}
