import { createGunzip, createInflate, type Gunzip, type Inflate } from "node:zlib";
import { ProtocolError } from "../protocol/protocol-error.js";

/** Content-Encoding values a request body may carry, as Triton's HTTP endpoint takes them. */
export const REQUEST_ENCODINGS = ["gzip", "deflate", "identity"] as const;

/** A request's body coding: none, or the zlib stream that decodes it and its name for messages. */
export type BodyDecoder = { encoding: string; stream: Gunzip | Inflate } | undefined;

/**
 * The decoder for a request's Content-Encoding (gzip, x-gzip, deflate; identity or none: no
 * decoder), chosen before a byte of the body is read. An encoding Triton does not take (br, a list
 * of several) is a 415. The body then streams through zlib (its thread pool) as it arrives, so a
 * compressed body is never held whole, and the reader stops it at the decompressed limit.
 */
export function bodyDecoder(header: string | string[] | undefined): BodyDecoder {
  const encoding = (Array.isArray(header) ? header.join(",") : (header ?? "")).trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return undefined;
  if (encoding === "gzip" || encoding === "x-gzip") return { encoding, stream: createGunzip() };
  if (encoding === "deflate") return { encoding, stream: createInflate() };
  throw new ProtocolError(
    "unsupported_encoding",
    `Content-Encoding "${encoding}" is not supported; send the body as ${REQUEST_ENCODINGS.join(", ")}`,
  );
}

/** The 413 for a compressed body that decodes past the limit (a zip bomb costs at most the limit). */
export function decompressedTooLarge(encoding: string, maxBytes: number): ProtocolError {
  return new ProtocolError(
    "payload_too_large",
    `the ${encoding} request body decompresses to more than the server's limit of ${maxBytes} bytes; send fewer rows per request`,
  );
}

/** The 400 for data that is not what its Content-Encoding says. */
export function corruptEncoding(encoding: string, err: Error): ProtocolError {
  return new ProtocolError("bad_request", `the request body is not valid ${encoding} data: ${err.message}`);
}
