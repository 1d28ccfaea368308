import type { IncomingMessage } from "node:http";

export type BodyResult =
  { ok: true; body: Buffer } | { ok: false; tooLarge: true; received: number } | { ok: false; tooLarge: false; error: Error };

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused
 * before one byte is read; a chunked body stops being collected the moment it passes the limit,
 * so an oversized request never sits in memory whole. The caller answers at once and lets the rest
 * be discarded as it arrives (see front.ts).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, tooLarge: true, received: declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    request.on("data", (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) {
        chunks.length = 0;
        settle({ ok: false, tooLarge: true, received });
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => settle({ ok: true, body: Buffer.concat(chunks, received) }));
    request.on("error", (error) => settle({ ok: false, tooLarge: false, error }));
    request.on("aborted", () => settle({ ok: false, tooLarge: false, error: new Error("client aborted the request") }));
  });
}
