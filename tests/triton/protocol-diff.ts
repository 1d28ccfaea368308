/**
 * The requests of the differential protocol check: the same call to serve-engine (model `serveModel`)
 * and to Triton (model `tritonModel`), answered as status and JSON structure (keys and value types,
 * not values).
 */
export interface ProtocolCase {
  name: string;
  method: "GET" | "POST";
  /** Path with {model} for the model's name. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const TEXTS = ["Stocks rally as inflation cools", "Local team wins the cup"];

function binaryInfer(): { body: Buffer; headers: Record<string, string> } {
  const elements = TEXTS.map((t) => {
    const bytes = Buffer.from(t, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  const raw = Buffer.concat(elements);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: "text", datatype: "BYTES", shape: [TEXTS.length], parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: "sentence_embedding", parameters: { binary_data: false } }],
    }),
  );
  return {
    body: Buffer.concat([header, raw]),
    headers: { "Inference-Header-Content-Length": String(header.length), "Content-Type": "application/octet-stream" },
  };
}

export function protocolCases(): ProtocolCase[] {
  const infer = (inputs: unknown[]): string => JSON.stringify({ inputs, outputs: [{ name: "sentence_embedding" }] });
  const binary = binaryInfer();
  return [
    { name: "health live", method: "GET", path: "/v2/health/live" },
    { name: "health ready", method: "GET", path: "/v2/health/ready" },
    { name: "model ready", method: "GET", path: "/v2/models/{model}/ready" },
    { name: "server metadata", method: "GET", path: "/v2" },
    { name: "model metadata", method: "GET", path: "/v2/models/{model}" },
    {
      name: "JSON inference",
      method: "POST",
      path: "/v2/models/{model}/infer",
      body: infer([{ name: "text", datatype: "BYTES", shape: [2], data: TEXTS }]),
    },
    { name: "binary inference", method: "POST", path: "/v2/models/{model}/infer", body: binary.body, headers: binary.headers },
    { name: "unknown model metadata", method: "GET", path: "/v2/models/nope" },
    {
      name: "unknown model inference",
      method: "POST",
      path: "/v2/models/nope/infer",
      body: infer([{ name: "text", datatype: "BYTES", shape: [2], data: TEXTS }]),
    },
    {
      name: "wrong datatype",
      method: "POST",
      path: "/v2/models/{model}/infer",
      body: infer([{ name: "text", datatype: "INT64", shape: [2], data: [1, 2] }]),
    },
    {
      name: "wrong shape",
      method: "POST",
      path: "/v2/models/{model}/infer",
      body: infer([{ name: "text", datatype: "BYTES", shape: [3], data: TEXTS }]),
    },
    {
      name: "empty batch",
      method: "POST",
      path: "/v2/models/{model}/infer",
      body: infer([{ name: "text", datatype: "BYTES", shape: [0], data: [] }]),
    },
    { name: "malformed JSON", method: "POST", path: "/v2/models/{model}/infer", body: '{"inputs": [' },
  ];
}

/** Keys and value types, recursively; an array is described by its first element. */
export function structure(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [structure(value[0])];
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, structure((value as Record<string, unknown>)[k])]),
    );
  return value === null ? "null" : typeof value;
}

export interface Answer {
  status: number;
  structure: unknown;
}

export async function ask(url: string, model: string, c: ProtocolCase): Promise<Answer> {
  const response = await fetch(`${url}${c.path.replace("{model}", model)}`, {
    method: c.method,
    ...(c.body === undefined ? {} : { body: c.body }),
    ...(c.headers === undefined ? {} : { headers: c.headers }),
  });
  const text = await response.text();
  let json: unknown = text === "" ? "" : undefined;
  if (json === undefined) {
    try {
      json = JSON.parse(text);
    } catch {
      json = `<not JSON: ${text.slice(0, 40)}>`;
    }
  }
  return { status: response.status, structure: structure(json) };
}
