import { Writable } from "node:stream";

/** What the terminal writer needs of a progress display that is on screen. */
export interface LiveBars {
  /** Prints whole lines above the bars and redraws the bars below them. */
  log(text: string): void;
}

/**
 * The one writer of stderr on a terminal. Log lines and progress bars both go through it: while
 * bars are on screen a log line is handed to them to print above, so the two never share a line;
 * otherwise it is written straight to the stream.
 */
export class TerminalWriter extends Writable {
  private bars: LiveBars | undefined;
  private pending = "";

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {
    super({ decodeStrings: false });
  }

  /** Bars drawn from now on own the screen until detach(). */
  attach(bars: LiveBars): void {
    this.bars = bars;
  }

  detach(bars: LiveBars): void {
    if (this.bars === bars) this.bars = undefined;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.pending + (typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    if (this.bars === undefined) {
      this.pending = "";
      this.stream.write(text);
    } else {
      // Only whole lines go above the bars; a partial line waits for its end.
      const cut = text.lastIndexOf("\n") + 1;
      this.pending = text.slice(cut);
      if (cut > 0) this.bars.log(text.slice(0, cut));
    }
    callback();
  }
}

/** The CLI's terminal writer for stderr, shared by its logger and its progress bars. */
export const stderrTerminal = new TerminalWriter(process.stderr);
