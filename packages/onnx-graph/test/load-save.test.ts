import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DataLocation,
  DataType,
  decodeOnnxModel,
  EXTERNAL_DATA_ALIGNMENT,
  int64ToBigInt,
  int64ToNumber,
  loadOnnxModel,
  mainGraph,
  onnxSha256,
  saveOnnxModel,
  serializeOnnxModel,
  type OnnxModel,
  type TensorProto,
} from "../src/index.js";
import { encodeModelProto } from "../src/schema.js";
import { bertBatch, cosine, floats, runModel } from "./helpers/ort.js";
import { checkWithOnnx, pythonFixtures, type PythonFixtures } from "./helpers/python.js";

let fixtures: PythonFixtures;
let dir: string;
beforeAll(async () => {
  fixtures = await pythonFixtures();
  dir = await mkdtemp(join(tmpdir(), "trtforge-onnx-io-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function initializer(model: OnnxModel, name: string): TensorProto {
  const tensor = mainGraph(model).initializer.find((t) => t.name === name);
  if (tensor === undefined) throw new Error(`no initializer ${name}`);
  return tensor;
}

describe("load and save round trip", () => {
  it("re-encodes an exported BERT byte for byte, and stays byte-stable on re-save", async () => {
    const original = await readFile(fixtures.tinyBert);
    const model = await loadOnnxModel(fixtures.tinyBert);
    const encoded = serializeOnnxModel(model);
    expect(Buffer.compare(Buffer.from(encoded), original)).toBe(0);
    const path = join(dir, "resaved.onnx");
    expect(await saveOnnxModel(model, path)).toEqual({ onnxPath: path });
    const resaved = await readFile(path);
    expect(Buffer.compare(resaved, original)).toBe(0);
    expect(Buffer.compare(Buffer.from(serializeOnnxModel(await loadOnnxModel(path))), resaved)).toBe(0);
  });

  it("keeps metadata_props, functions, training_info, doc strings and exact int64 values", async () => {
    const original = await readFile(fixtures.features);
    const model = await loadOnnxModel(fixtures.features);
    expect(Buffer.compare(Buffer.from(serializeOnnxModel(model)), original)).toBe(0);
    // decode(encode(x)) is x: the same fields, read back through the typed surface.
    const again = decodeOnnxModel(serializeOnnxModel(model));
    for (const m of [model, again]) {
      expect(m.proto.metadata_props.map((e) => [e.key, e.value])).toEqual([
        ["author", "trtforge"],
        ["license", "Apache-2.0"],
      ]);
      expect(mainGraph(m).metadata_props.map((e) => [e.key, e.value])).toEqual([["graph_key", "graph value"]]);
      expect(mainGraph(m).node[0]!.metadata_props.map((e) => [e.key, e.value])).toEqual([["node_key", "node value"]]);
      expect(m.proto.functions.map((f) => [f.domain, f.name, f.node.map((n) => n.op_type)])).toEqual([
        ["trtforge.test", "AddTwice", ["Add", "Add"]],
      ]);
      expect(m.proto.training_info).toHaveLength(1);
      expect(m.proto.training_info[0]!.algorithm?.node[0]?.op_type).toBe("Identity");
      expect(m.proto.doc_string).toBe("model doc");
      expect(initializer(m, "int64_max").int64_data.map(int64ToBigInt)).toEqual([9223372036854775807n, -9223372036854775808n]);
      expect(initializer(m, "doubles").double_data).toEqual([1e300, -2.5]);
      expect(initializer(m, "b").float_data).toEqual([0.5, -1, 2]);
      expect(initializer(m, "names").string_data.map((s) => Buffer.from(s).toString())).toEqual(["alpha", "beta"]);
    }
    await checkWithOnnx(fixtures.features);
  });

  it("keeps fields newer than the vendored schema (unknown field numbers)", async () => {
    // Field 1000, varint 7: what a future onnx.proto could add to ModelProto.
    const withUnknown = Buffer.concat([await readFile(fixtures.features), Buffer.from([0xc0, 0x3e, 0x07])]);
    expect(Buffer.compare(Buffer.from(serializeOnnxModel(decodeOnnxModel(withUnknown))), withUnknown)).toBe(0);
  });

  it("refuses files that are not ONNX models", async () => {
    const path = join(dir, "garbage.onnx");
    await writeFile(path, Buffer.from("this is not a protobuf \u0000\u00ff\u00ff"));
    await expect(loadOnnxModel(path)).rejects.toMatchObject({ code: "EXPORT_PROTOCOL", input: path });
    await expect(loadOnnxModel(join(dir, "missing.onnx"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });
});

describe("external data", () => {
  it("reads tensors onnx saved to an external file, giving the same model as the single file", async () => {
    const inline = await loadOnnxModel(fixtures.tinyBert);
    const external = await loadOnnxModel(fixtures.tinyBertExternal);
    const word = initializer(external, "model.bert.embeddings.word_embeddings.weight");
    expect(word.data_location ?? DataLocation.DEFAULT).toBe(DataLocation.DEFAULT);
    expect(word.external_data).toEqual([]);
    expect(Buffer.compare(Buffer.from(serializeOnnxModel(external)), Buffer.from(serializeOnnxModel(inline)))).toBe(0);
  });

  it('saves with "always": large initializers go to <name>.onnx.data at aligned offsets, and it reloads equal and runs', async () => {
    const model = await loadOnnxModel(fixtures.tinyBert);
    const folder = join(dir, "always");
    await mkdir(folder);
    const saved = await saveOnnxModel(model, join(folder, "model.onnx"), { externalData: "always" });
    expect(saved).toEqual({ onnxPath: join(folder, "model.onnx"), dataPath: join(folder, "model.onnx.data") });
    expect((await readdir(folder)).sort()).toEqual(["model.onnx", "model.onnx.data"]);

    const stored = decodeOnnxModel(await readFile(saved.onnxPath));
    const moved = mainGraph(stored).initializer.filter((t) => t.data_location === DataLocation.EXTERNAL);
    const kept = mainGraph(stored).initializer.filter((t) => t.data_location !== DataLocation.EXTERNAL);
    expect(moved.length).toBeGreaterThan(10);
    let end = 0;
    for (const tensor of moved) {
      const entries = Object.fromEntries(tensor.external_data.map((e) => [e.key, e.value]));
      expect(entries.location).toBe("model.onnx.data");
      const offset = Number(entries.offset);
      expect(offset % EXTERNAL_DATA_ALIGNMENT).toBe(0);
      expect(offset).toBeGreaterThanOrEqual(end);
      expect(Number(entries.length)).toBe(initializer(model, tensor.name).raw_data!.length);
      expect(Number(entries.length)).toBeGreaterThanOrEqual(1024);
      end = offset + Number(entries.length);
    }
    for (const tensor of kept) expect(tensor.raw_data?.length ?? 0).toBeLessThan(1024);
    expect((await stat(saved.dataPath!)).size).toBe(end);
    // The caller's model still holds its data inline.
    expect(initializer(model, moved[0]!.name).raw_data!.length).toBeGreaterThan(0);

    const reloaded = await loadOnnxModel(saved.onnxPath);
    expect(Buffer.compare(Buffer.from(serializeOnnxModel(reloaded)), Buffer.from(serializeOnnxModel(model)))).toBe(0);
    await checkWithOnnx(saved.onnxPath);
    const batch = bertBatch();
    const fromFile = await runModel(saved.onnxPath, batch);
    const fromBytes = await runModel(serializeOnnxModel(model), batch);
    expect(floats(fromFile.last_hidden_state)).toEqual(floats(fromBytes.last_hidden_state));
    expect(cosine(floats(fromFile.logits), floats(fromBytes.logits))).toBeGreaterThan(0.999999);
  });

  it('"auto" and "never" write one file for a model under 2 GiB', async () => {
    const model = await loadOnnxModel(fixtures.tinyBertExternal);
    for (const mode of ["auto", "never"] as const) {
      const folder = join(dir, mode);
      await mkdir(folder);
      const saved = await saveOnnxModel(model, join(folder, "model.onnx"), { externalData: mode });
      expect(saved.dataPath).toBeUndefined();
      expect(await readdir(folder)).toEqual(["model.onnx"]);
      expect(sha256(await readFile(saved.onnxPath))).toBe(sha256(await readFile(fixtures.tinyBert)));
    }
  });

  it("refuses a model over 2 GiB as bytes, and as one file", async () => {
    const model = await loadOnnxModel(fixtures.features);
    // Not touched, so not committed: the size checks run before any encoding.
    initializer(model, "b").raw_data = Buffer.allocUnsafe(2 ** 31);
    expect(() => serializeOnnxModel(model)).toThrowError(/more than one protobuf message can hold/);
    expect(() => serializeOnnxModel(model)).toThrowError(expect.objectContaining({ fix: expect.stringContaining("saveOnnxModel") }));
    await expect(saveOnnxModel(model, join(dir, "huge.onnx"), { externalData: "never" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(await readdir(dir)).not.toContain("huge.onnx");
  });

  it("reports damaged external data references", async () => {
    const folder = join(dir, "damaged");
    await mkdir(folder);
    const model = decodeOnnxModel(await readFile(fixtures.tinyBertExternal));
    const tensor = mainGraph(model).initializer.find((t) => t.data_location === DataLocation.EXTERNAL)!;
    const write = async (mutate: (t: TensorProto) => void): Promise<string> => {
      const copy = decodeOnnxModel(encodeModelProto(model.proto));
      mutate(mainGraph(copy).initializer.find((t) => t.name === tensor.name)!);
      const path = join(folder, "model.onnx");
      await writeFile(path, encodeModelProto(copy.proto));
      return path;
    };
    await copyFile(join(fixtures.tinyBertExternal, "..", "weights.bin"), join(folder, "weights.bin"));
    const beyondEnd = await write((t) => t.external_data.forEach((e) => e.key === "offset" && (e.value = "99999999")));
    await expect(loadOnnxModel(beyondEnd)).rejects.toMatchObject({
      code: "EXPORT_PROTOCOL",
      message: expect.stringContaining(tensor.name),
    });
    const escaping = await write((t) => t.external_data.forEach((e) => e.key === "location" && (e.value = "../weights.bin")));
    await expect(loadOnnxModel(escaping)).rejects.toMatchObject({ code: "EXPORT_PROTOCOL", message: expect.stringContaining("outside") });
    const missing = await write((t) => t.external_data.forEach((e) => e.key === "location" && (e.value = "gone.bin")));
    await expect(loadOnnxModel(missing)).rejects.toMatchObject({ code: "FILE_NOT_FOUND", input: join(folder, "gone.bin") });
  });
});

describe("onnxSha256", () => {
  it("is the file's SHA-256 without external data, and covers the data file with it", async () => {
    expect(await onnxSha256(fixtures.tinyBert)).toBe(sha256(await readFile(fixtures.tinyBert)));
    const onnxBytes = await readFile(fixtures.tinyBertExternal);
    const dataBytes = await readFile(join(fixtures.tinyBertExternal, "..", "weights.bin"));
    expect(await onnxSha256(fixtures.tinyBertExternal)).toBe(sha256(Buffer.concat([onnxBytes, dataBytes])));
    // A changed weight changes the hash even though the .onnx file is the same.
    const folder = join(dir, "hash");
    await mkdir(folder);
    await copyFile(fixtures.tinyBertExternal, join(folder, "model.onnx"));
    const changed = Buffer.from(dataBytes);
    changed[changed.length - 1] = changed.at(-1)! ^ 0xff;
    await writeFile(join(folder, "weights.bin"), changed);
    expect(await onnxSha256(join(folder, "model.onnx"))).not.toBe(await onnxSha256(fixtures.tinyBertExternal));
  });
});

describe("int64 helpers", () => {
  it("reads Long values exactly", () => {
    expect(int64ToBigInt({ low: -1, high: 0x7fffffff, unsigned: false })).toBe(9223372036854775807n);
    expect(int64ToNumber({ low: 5, high: 0, unsigned: false })).toBe(5);
    expect(DataType.FLOAT16).toBe(10);
  });
});
