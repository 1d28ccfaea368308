import { promisify } from "node:util";
import { gunzip, inflate } from "node:zlib";
import { ProtocolError } from "../protocol/protocol-error.js";

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** Content-Encoding values a request body may carry, as Triton's HTTP endpoint takes them. */
export const REQUEST_ENCODINGS = ["gzip", "deflate", "identity"] as const;

/**
 * The request body decoded per its Content-Encoding (gzip, x-gzip, deflate; identity or none as
 * it is), in zlib's thread pool, never past `maxBytes` decompressed: zlib stops at the limit, so a
 * zip bomb costs at most that much memory and is answered 413. Corrupt data is a 400; an encoding
 * Triton does not take (br, a list of several) is a 415.
 */
export async function decodeContentEncoding(header: string | string[] | undefined, body: Buffer, maxBytes: number): Promise<Buffer> {
  const encoding = (Array.isArray(header) ? header.join(",") : (header ?? "")).trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return body;
  const decode = encoding === "gzip" || encoding === "x-gzip" ? gunzipAsync : encoding === "deflate" ? inflateAsync : undefined;
  if (decode === undefined) {
    throw new ProtocolError(
      "unsupported_encoding",
      `Content-Encoding "${encoding}" is not supported; send the body as ${REQUEST_ENCODINGS.join(", ")}`,
    );
  }
  try {
    return await decode(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ProtocolError(
        "payload_too_large",
        `the ${encoding} request body decompresses to more than the server's limit of ${maxBytes} bytes; send fewer rows per request`,
      );
    }
    throw new ProtocolError("bad_request", `the request body is not valid ${encoding} data: ${(err as Error).message}`);
  }
}
