import type { IncomingMessage } from "node:http";
import { ProtocolError } from "../protocol/protocol-error.js";
import { corruptEncoding, decompressedTooLarge, type BodyDecoder } from "./content-encoding.js";

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; tooLarge: true; received: number }
  /** The body's bytes so far already settle the answer (a 400 or 413); the rest is not wanted. */
  | { ok: false; tooLarge: false; rejected: ProtocolError }
  | { ok: false; tooLarge: false; rejected?: undefined; error: Error; timedOut?: boolean; shuttingDown?: boolean };

/** A body being read: its result, and a way to stop waiting for it (drain). */
export interface BodyRead {
  result: Promise<BodyResult>;
  /** Settles the read as shutting down; bytes still arriving are ignored. */
  abort(): void;
}

/**
 * Where the (decoded) body goes as it arrives. `write` may throw a ProtocolError to refuse the
 * body on what it has seen so far; `end` gives what the caller will handle.
 */
export interface BodySink {
  write(chunk: Buffer): void;
  end(): Buffer;
}

/** The sink that keeps every byte: bodies that are small by nature (repository calls). */
export function collectingSink(): BodySink {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => {
      chunks.push(chunk);
    },
    end: () => Buffer.concat(chunks),
  };
}

export interface ReadBodyOptions {
  /** Most bytes the body may have as sent, and decoded. */
  limit: number;
  idleMs: number;
  /** Default: collectingSink(). */
  sink?: BodySink;
  /** The Content-Encoding's decoder (bodyDecoder), if any. */
  decoder?: BodyDecoder;
}

/**
 * Reads a request body up to `limit` bytes, through its decoder if it has one, into a sink. A
 * declared Content-Length over the limit is refused before one byte is read; a chunked body stops
 * being read the moment it passes the limit, and a compressed one the moment its decoded bytes do,
 * so an oversized request never sits in memory whole; what the sink keeps is up to the sink. The
 * caller answers at once and lets the rest be discarded as it arrives (see front.ts). A body that
 * sends nothing for `idleMs` is given up (timedOut): a stalled upload must not hold its
 * connection, its memory or a drain.
 */
export function readBody(request: IncomingMessage, options: ReadBodyOptions): BodyRead {
  const { limit, idleMs, decoder } = options;
  const sink = options.sink ?? collectingSink();
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    decoder?.stream.destroy();
    return { result: Promise.resolve({ ok: false, tooLarge: true, received: declared }), abort: () => {} };
  }
  let abort = (): void => {};
  const result = new Promise<BodyResult>((resolve) => {
    let received = 0;
    let decoded = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const settle = (outcome: BodyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      if (!outcome.ok) decoder?.stream.destroy();
      resolve(outcome);
    };
    const refuse = (err: unknown): void => {
      if (err instanceof ProtocolError) settle({ ok: false, tooLarge: false, rejected: err });
      else settle({ ok: false, tooLarge: false, error: err as Error });
    };
    /** Hands decoded bytes to the sink; false once the body is settled (refused). */
    const consume = (chunk: Buffer): void => {
      if (settled) return;
      try {
        sink.write(chunk);
      } catch (err) {
        refuse(err);
      }
    };
    const finish = (): void => {
      if (settled) return;
      try {
        settle({ ok: true, body: sink.end() });
      } catch (err) {
        refuse(err);
      }
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          settle({
            ok: false,
            tooLarge: false,
            timedOut: true,
            error: new Error(`no body bytes for ${idleMs} ms (${received} received)`),
          }),
        idleMs,
      );
    };
    abort = () => settle({ ok: false, tooLarge: false, shuttingDown: true, error: new Error("the server is shutting down") });
    arm();
    if (decoder !== undefined) {
      decoder.stream.on("data", (chunk: Buffer) => {
        if (settled) return;
        decoded += chunk.length;
        if (decoded > limit) {
          refuse(decompressedTooLarge(decoder.encoding, limit));
          return;
        }
        consume(chunk);
      });
      decoder.stream.on("end", finish);
      decoder.stream.on("error", (err) => refuse(corruptEncoding(decoder.encoding, err)));
    }
    request.on("data", (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) {
        settle({ ok: false, tooLarge: true, received });
        return;
      }
      arm();
      if (decoder === undefined) consume(chunk);
      else decoder.stream.write(chunk);
    });
    request.on("end", () => {
      if (decoder === undefined) finish();
      else if (!settled) decoder.stream.end();
    });
    request.on("error", (error) => settle({ ok: false, tooLarge: false, error }));
    request.on("aborted", () => settle({ ok: false, tooLarge: false, error: new Error("client aborted the request") }));
  });
  return { result, abort: () => abort() };
}
