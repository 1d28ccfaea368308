import { isAscii } from "node:buffer";
import { MAX_JSON_DEPTH } from "../protocol/infer-request.js";
import { badRequest } from "../protocol/protocol-error.js";

/** Longest string allowed outside an input's `data` (ids, names, keys, parameter values). */
export const MAX_OTHER_STRING_UNITS = 64 * 1024;

const QUOTE = 0x22;
/** Kept string spans shorter than this are counted byte by byte: cheaper than a native call. */
const MIN_FAST_SPAN = 32;
const BACKSLASH = 0x5c;

type Frame = { array: true } | { array: false; key: string | undefined };

/** What a bounder did to a body. */
export interface BoundingReport {
  /** Strings in an input's `data` cut short. */
  cutStrings: number;
  /** Bytes of the body it passed on (what the worker receives). */
  keptBytes: number;
  /** Bytes of the body it was handed. */
  seenBytes: number;
}

/**
 * An incremental scanner over an infer request's JSON as its bytes arrive. It copies the JSON
 * through except the tail of any string element of an input's `data` past `maxDataUnits` UTF-16
 * code units: such a string is closed right there (at a whole character) and the rest of it is
 * dropped as it arrives, so the front holds and forwards O(limit) per text whatever the body
 * holds. The cut string keeps `maxDataUnits` units and more, so the worker's byte check still sees a
 * text over its limit (refused or truncated per the request's `truncate`, exactly as it would the
 * whole text: its cut reads only the first limit's worth). Any other string past
 * MAX_OTHER_STRING_UNITS and nesting past MAX_JSON_DEPTH are refused at once with a 400, before
 * the rest arrives. It checks only what it needs to find strings and structure; JSON.parse in the
 * worker still validates the rest.
 *
 * Why our own scanner and no npm streaming parser: the parsers in reach (@streamparser/json,
 * jsonparse, clarinet) hand a string over only when it is complete, so they hold a whole 8 MiB
 * text; stream-json can stream strings in chunks but builds a token object per chunk through a
 * stream pipeline, costing every small request. This needs string and bracket tracking only.
 */
export class JsonTextBounder {
  private readonly kept: Buffer[] = [];
  private readonly stack: Frame[] = [];
  private inString = false;
  /** 0: none; 1: after a backslash; 2 to 5: inside \uXXXX (digits left + 1). */
  private escape = 0;
  private stringIsKey = false;
  private stringIsData = false;
  private stringLimit = 0;
  private units = 0;
  private cutting = false;
  private keyBytes: number[] = [];
  private keyTooLong = false;
  /** In an object: the next string is a key (after `{` or `,`), not a value (after `:`). */
  private expectKey = false;
  private readonly report: BoundingReport = { cutStrings: 0, keptBytes: 0, seenBytes: 0 };

  constructor(private readonly maxDataUnits: number) {}

  /** Scans one chunk; throws a 400 ProtocolError for a body it will not take (nothing is kept then). */
  write(chunk: Buffer): void {
    this.report.seenBytes += chunk.length;
    let passStart = this.cutting ? -1 : 0;
    // The next quote and backslash at or after a position, found natively (Buffer.indexOf) and
    // remembered, so that each byte of the chunk is searched once however many escapes it holds.
    let quoteAt = -2;
    let slashAt = -2;
    const nextQuote = (from: number): number => (quoteAt === -1 || quoteAt >= from ? quoteAt : (quoteAt = chunk.indexOf(QUOTE, from)));
    const nextSlash = (from: number): number => (slashAt === -1 || slashAt >= from ? slashAt : (slashAt = chunk.indexOf(BACKSLASH, from)));
    /** Below this, string bytes are counted one by one (a span that is not ASCII or may reach the limit). */
    let slowUntil = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i]!;
      if (this.inString) {
        if (this.cutting) {
          // Dropping the tail: only the closing quote matters, the first one no odd run of
          // backslashes escapes (\uXXXX digits are never a quote or a backslash). A tail without
          // backslashes before its quote is crossed natively; escapes are walked in a tight loop.
          const end = this.endOfCut(chunk, i, nextQuote, nextSlash);
          if (end === -1) break; // the text goes on in the next chunk
          i = end;
          this.cutting = false;
          this.inString = false;
          this.afterValue();
          passStart = i; // the closing quote goes through
          continue;
        }
        if (this.escape === 0 && !this.stringIsKey && i >= slowUntil && byte !== QUOTE && byte !== BACKSLASH) {
          // Kept string content up to the next quote or backslash, at once: an ASCII span is one
          // unit per byte, and one that cannot reach the limit needs no cut inside it. Otherwise
          // the span is counted byte by byte below (UTF-8 lead bytes, the cut at a whole character).
          const quote = nextQuote(i);
          const slash = nextSlash(i);
          const end = Math.min(quote === -1 ? chunk.length : quote, slash === -1 ? chunk.length : slash);
          // Short spans (dense escapes) cost less counted below than through a native call.
          if (end - i >= MIN_FAST_SPAN && this.units + (end - i) <= this.stringLimit && isAscii(chunk.subarray(i, end))) {
            this.units += end - i;
            i = end - 1;
            continue;
          }
          slowUntil = end;
        }
        if (this.escape === 1) {
          this.escape = byte === 0x75 ? 5 : 0;
          this.keyByte(byte);
          continue;
        }
        if (this.escape > 1) {
          this.escape = this.escape === 2 ? 0 : this.escape - 1;
          this.keyByte(byte);
          continue;
        }
        if (byte === QUOTE) {
          this.inString = false;
          this.endString();
          continue;
        }
        // A new character starts here (not a UTF-8 continuation byte): count it, or cut before it.
        if ((byte & 0xc0) !== 0x80) {
          if (this.units >= this.stringLimit) {
            if (!this.stringIsData) {
              throw badRequest(
                `the infer request holds a ${this.stringIsKey ? "key" : "string"} of more than ${MAX_OTHER_STRING_UNITS} characters outside an input's "data"; only texts may be long`,
              );
            }
            if (passStart >= 0 && i > passStart) this.keep(chunk.subarray(passStart, i), chunk);
            this.report.cutStrings += 1;
            this.cutting = true;
            passStart = -1;
            i -= 1; // the cutting branch looks at this byte again
            continue;
          }
          this.units += byte >= 0xf0 ? 2 : 1;
          if (byte === BACKSLASH) this.escape = 1;
        }
        this.keyByte(byte);
        continue;
      }
      switch (byte) {
        case QUOTE:
          this.startString();
          break;
        case 0x7b: // {
          this.push({ array: false, key: undefined });
          this.expectKey = true;
          break;
        case 0x5b: // [
          this.push({ array: true });
          this.expectKey = false;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          this.stack.pop();
          this.afterValue();
          break;
        case 0x2c: {
          // ,
          const top = this.stack.at(-1);
          this.expectKey = top !== undefined && !top.array;
          break;
        }
        case 0x3a: // :
          this.expectKey = false;
          break;
        default:
          break;
      }
    }
    if (passStart >= 0 && passStart < chunk.length) this.keep(chunk.subarray(passStart), chunk);
  }

  /**
   * Where the cut string's closing quote is in the chunk, from `from` on, or -1 when the chunk ends
   * first (this.escape then says whether it ended on an unpaired backslash).
   */
  private endOfCut(chunk: Buffer, from: number, nextQuote: (from: number) => number, nextSlash: (from: number) => number): number {
    let i = from;
    if (this.escape !== 0) {
      // The byte after a backslash, or a \uXXXX digit: none of them ends the string.
      if (i >= chunk.length) return -1;
      this.escape = 0;
      i += 1;
    }
    const quote = nextQuote(i);
    const slash = nextSlash(i);
    if (slash === -1 || (quote !== -1 && quote < slash)) return quote;
    for (let at = slash; at < chunk.length; at += 1) {
      const byte = chunk[at]!;
      if (byte === BACKSLASH) {
        at += 1;
        if (at >= chunk.length) {
          this.escape = 1;
          return -1;
        }
      } else if (byte === QUOTE) {
        return at;
      }
    }
    return -1;
  }

  /** The bounded JSON, and what was cut. */
  end(): { json: Buffer; report: BoundingReport } {
    const json = Buffer.concat(this.kept);
    this.kept.length = 0;
    return { json, report: { ...this.report } };
  }

  private keep(part: Buffer, chunk?: Buffer): void {
    // A part of a chunk is copied, so a cut text's chunk is not held alive by its short prefix.
    this.kept.push(chunk === undefined || part.length === chunk.length ? part : Buffer.from(part));
    this.report.keptBytes += part.length;
  }

  private push(frame: Frame): void {
    if (this.stack.length >= MAX_JSON_DEPTH) {
      throw badRequest(
        `the infer request header nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels; send "data" flat (row-major) or nested once per dimension of "shape"`,
      );
    }
    this.stack.push(frame);
  }

  private startString(): void {
    this.inString = true;
    this.escape = 0;
    this.units = 0;
    const top = this.stack.at(-1);
    this.stringIsKey = top !== undefined && !top.array && this.expectKey;
    this.stringIsData = !this.stringIsKey && this.inData();
    this.stringLimit = this.stringIsData ? this.maxDataUnits : MAX_OTHER_STRING_UNITS;
    this.keyBytes = [];
    this.keyTooLong = false;
  }

  private keyByte(byte: number): void {
    if (!this.stringIsKey || this.keyTooLong) return;
    if (this.keyBytes.length >= 64) {
      this.keyTooLong = true;
      return;
    }
    this.keyBytes.push(byte);
  }

  private endString(): void {
    if (this.stringIsKey) {
      const top = this.stack.at(-1);
      if (top !== undefined && !top.array) top.key = this.keyTooLong ? undefined : Buffer.from(this.keyBytes).toString("latin1");
      return;
    }
    this.afterValue();
  }

  private afterValue(): void {
    this.expectKey = false;
  }

  /**
   * Whether a string value here is an element of an input's data: root `inputs` → an array → an
   * object's `data` → arrays only. A key spelt with escapes is not matched, and its strings are
   * then held to MAX_OTHER_STRING_UNITS instead, so escaping cannot smuggle a long text past.
   */
  private inData(): boolean {
    const [root, list, input] = this.stack;
    if (root === undefined || root.array || root.key !== "inputs") return false;
    if (list === undefined || !list.array) return false;
    if (input === undefined || input.array || input.key !== "data") return false;
    for (let depth = 3; depth < this.stack.length; depth += 1) if (!this.stack[depth]!.array) return false;
    return true;
  }
}
