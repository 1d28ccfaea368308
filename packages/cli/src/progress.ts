import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { Logger } from "@trtforge/core";

/**
 * Progress of long stages (export, calibration batches, TensorRT build phases). On a terminal:
 * one bar per stage on stderr. Elsewhere (CI, pipes): a log line when a stage starts, at each
 * tenth of the way and when it ends, so JSON logs stay readable.
 */
export interface ProgressDisplay {
  update(stage: string, current: number, total: number, message?: string): void;
  stop(): void;
}

class TerminalProgress implements ProgressDisplay {
  private readonly bars = new Map<string, SingleBar>();
  private readonly multi = new MultiBar(
    { format: " {stage} |{bar}| {value}/{total} {message}", stream: process.stderr, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );

  update(stage: string, current: number, total: number, message = ""): void {
    let bar = this.bars.get(stage);
    if (!bar) {
      bar = this.multi.create(total, 0, { stage: stage.padEnd(10), message });
      this.bars.set(stage, bar);
    }
    bar.setTotal(total);
    bar.update(current, { stage: stage.padEnd(10), message });
  }

  stop(): void {
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
