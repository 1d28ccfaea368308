import type { IncomingMessage } from "node:http";

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; tooLarge: true; received: number }
  | { ok: false; tooLarge: false; error: Error; timedOut?: boolean; shuttingDown?: boolean };

/** A body being read: its result, and a way to stop waiting for it (drain). */
export interface BodyRead {
  result: Promise<BodyResult>;
  /** Settles the read as shutting down; bytes still arriving are ignored. */
  abort(): void;
}

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused
 * before one byte is read; a chunked body stops being collected the moment it passes the limit,
 * so an oversized request never sits in memory whole. The caller answers at once and lets the rest
 * be discarded as it arrives (see front.ts). A body that sends nothing for `idleMs` is given up
 * (timedOut): a stalled upload must not hold its connection, its memory or a drain.
 */
export function readBody(request: IncomingMessage, limit: number, idleMs: number): BodyRead {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit)
    return { result: Promise.resolve({ ok: false, tooLarge: true, received: declared }), abort: () => {} };
  let abort = (): void => {};
  const result = new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const settle = (outcome: BodyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      chunks.length = 0;
      resolve(outcome);
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
    request.on("data", (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) {
        settle({ ok: false, tooLarge: true, received });
        return;
      }
      chunks.push(chunk);
      arm();
    });
    request.on("end", () => {
      if (!settled) {
        const body = Buffer.concat(chunks, received);
        settle({ ok: true, body });
      }
    });
    request.on("error", (error) => settle({ ok: false, tooLarge: false, error }));
    request.on("aborted", () => settle({ ok: false, tooLarge: false, error: new Error("client aborted the request") }));
  });
  return { result, abort: () => abort() };
}
