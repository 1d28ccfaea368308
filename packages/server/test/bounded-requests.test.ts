import { connect } from "node:net";
import { deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointSet, startInProcessServer, WorkerMetrics, type ModelEndpoint, type RunningServer } from "../src/index.js";
import type { Front } from "../src/http/front.js";
import { directEndpoint, doubleModel } from "./served-model-double.js";

// Response bodies are read field by field with expect(); their shape is what the tests check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonObject = Record<string, any>;

const EIGHT_MIB = 8 * 1024 * 1024;
const MAX_BODY = 16 * 1024 * 1024;

/** The double, recording the longest text its tokenizer was handed (what a huge text costs it). */
function recordingModel() {
  const model = doubleModel({ agent: "embed", version: "v1", kind: "embedding", maxBatch: 4, maxSeq: 8 });
  const seen = { longestText: 0 };
  const tokenize = model.tokenize.bind(model);
  const recording = {
    ...model,
    tokenize: (texts: readonly string[], options: { truncate: boolean }) => {
      for (const text of texts) seen.longestText = Math.max(seen.longestText, text.length);
      return tokenize(texts, options);
    },
  };
  return { model: recording, seen };
}

/** The double with token_type_ids, two segment types, like BERT. */
function typedEndpoint(): ModelEndpoint {
  const model = doubleModel({ agent: "typed", version: "v1", kind: "embedding" });
  return directEndpoint({
    ...model,
    inputs: [...model.inputs, { name: "token_type_ids", datatype: "INT64", shape: [-1, -1] }],
    typeVocabSize: 2,
  });
}

const { model: embed, seen } = recordingModel();
let server: RunningServer & { front: Front };
/** Short header and body timeouts, for the slow-request tests only: on a loaded machine they would cut normal requests too. */
let impatient: RunningServer & { front: Front };

beforeAll(async () => {
  server = await startInProcessServer({
    endpoints: endpointSet([directEndpoint(embed), typedEndpoint()]),
    workerMetrics: new WorkerMetrics(),
    maxBodyBytes: MAX_BODY,
  });
  impatient = await startInProcessServer({
    endpoints: endpointSet([directEndpoint(doubleModel({ agent: "embed", version: "v1", kind: "embedding" }))]),
    headerTimeoutMs: 300,
    bodyTimeoutMs: 300,
  });
});
afterAll(async () => {
  await Promise.all([server.close(), impatient.close()]);
});

async function post(
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  target: string = server.url,
): Promise<{ status: number; json: JsonObject }> {
  const response = await fetch(`${target}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: response.status, json: (await response.json()) as JsonObject };
}

const postJson = (path: string, value: unknown) => post(path, JSON.stringify(value));
const textRequest = (texts: string[], parameters: Record<string, unknown> = {}) => ({
  parameters,
  inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
});
const idsRequest = (inputs: { name: string; data: number[][] }[]) => ({
  inputs: inputs.map(({ name, data }) => ({ name, datatype: "INT64", shape: [data.length, data[0]!.length], data })),
});

function bytesElements(values: Buffer[]): Buffer {
  return Buffer.concat(
    values.flatMap((value) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(value.length);
      return [length, value];
    }),
  );
}

/** A binary-extension request with one BYTES text input holding `elements`. */
function binaryTextBody(elements: Buffer[], parameters: Record<string, unknown> = {}): { body: Buffer; headerLength: number } {
  const binary = bytesElements(elements);
  const header = Buffer.from(
    JSON.stringify({
      parameters,
      inputs: [{ name: "text", datatype: "BYTES", shape: [elements.length], parameters: { binary_data_size: binary.length } }],
    }),
  );
  return { body: Buffer.concat([header, binary]), headerLength: header.length };
}

/** Everything the server sends on a raw connection until it closes it. */
function rawExchange(url: string, send: (socket: ReturnType<typeof connect>) => void): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => send(socket));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

describe("huge texts", () => {
  it("answers an 8 MiB text by its bytes (400 naming it and the limit, or cut with truncate) while normal requests complete", async () => {
    const huge = "news ".repeat(EIGHT_MIB / 5);
    seen.longestText = 0;
    const normal = () => postJson("/v2/models/embed/infer", textRequest(["markets rallied", "rain expected today"]));
    // The abusive requests go out among a bounded number of normal ones, all on loopback at once.
    const [refused, truncated, ...others] = await Promise.all([
      postJson("/v2/models/embed/infer", textRequest([huge])),
      postJson("/v2/models/embed/infer", textRequest(["short one", huge], { truncate: true })),
      ...Array.from({ length: 16 }, normal),
    ]);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toContain("text 0 has more than 256 UTF-8 bytes");
    expect(refused.json.error).toContain('"truncate": true');
    expect(truncated.status).toBe(200);
    expect(truncated.json.outputs[0].shape).toEqual([2, 4]);
    // The truncated row is the profile's 8 tokens: [CLS], six words, [SEP].
    expect(truncated.json.outputs[0].data[4]).toBe(8);
    expect(others.map((response) => response.status)).toEqual(others.map(() => 200));
    // Neither request handed the tokenizer more than the byte limit of text.
    expect(seen.longestText).toBeLessThanOrEqual(256);
  });
});

describe("client mistakes are 400 with a message naming the input and the expected form", () => {
  it("refuses input_ids past the vocabulary", async () => {
    const { status, json } = await postJson("/v2/models/embed/infer", idsRequest([{ name: "input_ids", data: [[101, 1000, 102]] }]));
    expect(status).toBe(400);
    expect(json.error).toContain('input "input_ids" element 1 (row 0, token 1) is 1000');
    expect(json.error).toContain("token ids (its vocabulary) of 0 to 999");
  });

  it("refuses negative input_ids", async () => {
    const { status, json } = await postJson("/v2/models/embed/infer", idsRequest([{ name: "input_ids", data: [[101, -5, 102]] }]));
    expect(status).toBe(400);
    expect(json.error).toContain('input "input_ids" element 1 (row 0, token 1) is -5');
  });

  it("refuses attention_mask values other than 0 and 1", async () => {
    const { status, json } = await postJson(
      "/v2/models/embed/infer",
      idsRequest([
        { name: "input_ids", data: [[101, 104, 102]] },
        { name: "attention_mask", data: [[1, 2, 1]] },
      ]),
    );
    expect(status).toBe(400);
    expect(json.error).toContain('input "attention_mask" element 1 (row 0, token 1) is 2');
    expect(json.error).toContain("0 to 1");
  });

  it("refuses token_type_ids past the model's segment types", async () => {
    const { status, json } = await postJson(
      "/v2/models/typed/infer",
      idsRequest([
        { name: "input_ids", data: [[101, 104, 102]] },
        { name: "token_type_ids", data: [[0, 0, 2]] },
      ]),
    );
    expect(status).toBe(400);
    expect(json.error).toContain('input "token_type_ids" element 2 (row 0, token 2) is 2');
    const fine = await postJson(
      "/v2/models/typed/infer",
      idsRequest([
        { name: "input_ids", data: [[101, 104, 102]] },
        { name: "token_type_ids", data: [[0, 1, 1]] },
      ]),
    );
    expect(fine.status).toBe(200);
  });

  it("tells a client that sends text as INT64 that text travels as BYTES", async () => {
    const { status, json } = await postJson("/v2/models/embed/infer", {
      inputs: [{ name: "text", datatype: "INT64", shape: [1], data: ["markets rallied"] }],
    });
    expect(status).toBe(400);
    expect(json.error).toContain('input "text" has datatype INT64, but text travels as BYTES');
  });

  it("refuses invalid UTF-8 in a binary BYTES element unless the request asks for replacement", async () => {
    const elements = [Buffer.from("fine text"), Buffer.from([0x6e, 0x65, 0x77, 0x73, 0xff, 0xfe])];
    const refused = binaryTextBody(elements);
    const answer = await post("/v2/models/embed/infer", refused.body, {
      "inference-header-content-length": String(refused.headerLength),
      "content-type": "application/octet-stream",
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toContain('input "text": BYTES element 1 is not valid UTF-8');
    expect(answer.json.error).toContain('"replace_invalid_utf8": true');
    const replaced = binaryTextBody(elements, { replace_invalid_utf8: true });
    const accepted = await post("/v2/models/embed/infer", replaced.body, {
      "inference-header-content-length": String(replaced.headerLength),
      "content-type": "application/octet-stream",
    });
    expect(accepted.status).toBe(200);
  });

  it("refuses a JSON body that is not UTF-8, or a lone surrogate in a text, unless the request asks for replacement", async () => {
    const withBadByte = (parameters: Record<string, unknown>) => {
      const [before, after] = JSON.stringify(textRequest(["caf@"], parameters)).split("@");
      return Buffer.concat([Buffer.from(before!), Buffer.from([0xe9]), Buffer.from(after!)]);
    };
    const refused = await post("/v2/models/embed/infer", withBadByte({}));
    expect(refused.status).toBe(400);
    expect(refused.json.error).toContain("not valid UTF-8");
    expect((await post("/v2/models/embed/infer", withBadByte({ replace_invalid_utf8: true }))).status).toBe(200);
    const surrogate = '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["half \\ud800 pair"]}]}';
    const lone = await post("/v2/models/embed/infer", surrogate);
    expect(lone.status).toBe(400);
    expect(lone.json.error).toContain('input "text" element 0 holds a lone UTF-16 surrogate');
  });

  it("answers data nested 200,000 deep with 400, not 500", async () => {
    const depth = 200_000;
    const body = `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":${"[".repeat(depth)}"x"${"]".repeat(depth)}}]}`;
    const { status, json } = await post("/v2/models/embed/infer", body);
    expect(status).toBe(400);
    expect(json.error).toContain("deeper than 32 levels");
  });
});

describe("compressed request bodies", () => {
  const request = Buffer.from(JSON.stringify(textRequest(["markets rallied", "rain expected today"])));

  it("accepts gzip and deflate bodies (as Triton does) and answers as for the plain body", async () => {
    const plain = await post("/v2/models/embed/infer", request);
    expect(plain.status).toBe(200);
    for (const [encoding, body] of [
      ["gzip", gzipSync(request)],
      ["deflate", deflateSync(request)],
    ] as const) {
      const answer = await post("/v2/models/embed/infer", body, { "content-encoding": encoding });
      expect(answer.status, encoding).toBe(200);
      expect(answer.json.outputs).toEqual(plain.json.outputs);
    }
  });

  it("refuses a body that decompresses past the limit (413), corrupt data (400) and an unknown coding (415)", async () => {
    // 64 KiB of gzip that would inflate to 64 MiB, four times the server's body limit.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const tooLarge = await post("/v2/models/embed/infer", bomb, { "content-encoding": "gzip" });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error).toContain(`decompresses to more than the server's limit of ${MAX_BODY} bytes`);
    const corrupt = await post("/v2/models/embed/infer", request, { "content-encoding": "gzip" });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json.error).toContain("not valid gzip data");
    const unknown = await post("/v2/models/embed/infer", request, { "content-encoding": "br" });
    expect(unknown.status).toBe(415);
    expect(unknown.json.error).toContain('Content-Encoding "br" is not supported');
  });
});

describe("slow and stalled requests", () => {
  it("answers headers that never finish with 408 and closes the connection", async () => {
    const reply = await rawExchange(impatient.url, (socket) => socket.write("POST /v2/models/embed/infer HTTP/1.1\r\nHost: x\r\n"));
    expect(reply.startsWith("HTTP/1.1 408")).toBe(true);
  });

  it("answers a body that stops arriving with 408 and a JSON error, and closes the connection", async () => {
    const reply = await rawExchange(impatient.url, (socket) =>
      socket.write('POST /v2/models/embed/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"inp'),
    );
    expect(reply.startsWith("HTTP/1.1 408")).toBe(true);
    expect(reply.toLowerCase()).toContain("connection: close");
    const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)) as JsonObject;
    expect(body.error).toContain("the request body sent nothing for 300 ms");
  });

  it("does not let a stalled upload hold the drain: close() answers it 503 and finishes", async () => {
    // A body timeout far beyond the test's own, so only the drain can end the upload.
    const draining = await startInProcessServer({
      endpoints: endpointSet([directEndpoint(doubleModel({ agent: "embed", version: "v1", kind: "embedding" }))]),
      bodyTimeoutMs: 600_000,
    });
    const reply = rawExchange(draining.url, (socket) =>
      socket.write('POST /v2/models/embed/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"inp'),
    );
    for (let i = 0; i < 2000 && draining.front.receiving() === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(draining.front.receiving()).toBe(1);
    expect(draining.front.inFlight()).toBe(0);
    await draining.close();
    const text = await reply;
    expect(text.startsWith("HTTP/1.1 503")).toBe(true);
    expect(text).toContain("shutting down");
  }, 60_000);
});
