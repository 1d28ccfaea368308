import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../src/index.js";

/** Writes the documented safetensors layout: u64 LE header length, JSON header, raw bytes. */
function safetensorsBytes(tensors: Record<string, { dtype: "F32" | "I64"; shape: number[]; bytes: Buffer }>, pad = 0): Buffer {
  let offset = 0;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const parts: Buffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    parts.push(t.bytes);
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header) + " ".repeat(pad));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...parts]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-st-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("readSafetensors", () => {
  it("reads int64 and float32 tensors, also at unaligned offsets", async () => {
    const ids = Buffer.from(new BigInt64Array([101n, 2023n, 102n, 0n]).buffer);
    const out = Buffer.from(new Float32Array([0.5, -1.25, 3]).buffer);
    const path = join(dir, "ref.safetensors");
    // A 3-byte pad makes the data start at an odd offset.
    await writeFile(
      path,
      safetensorsBytes({ input_ids: { dtype: "I64", shape: [2, 2], bytes: ids }, logits: { dtype: "F32", shape: [1, 3], bytes: out } }, 3),
    );
    const tensors = await readSafetensors(path);
    expect(tensors.get("input_ids")).toMatchObject({ dtype: "int64", shape: [2, 2] });
    expect([...tensors.get("input_ids")!.data]).toEqual([101n, 2023n, 102n, 0n]);
    expect([...tensors.get("logits")!.data]).toEqual([0.5, -1.25, 3]);
  });

  it("refuses a file whose sizes do not add up", async () => {
    const path = join(dir, "bad.safetensors");
    const bytes = safetensorsBytes({ x: { dtype: "F32", shape: [4], bytes: Buffer.alloc(8) } });
    await writeFile(path, bytes);
    await expect(readSafetensors(path)).rejects.toMatchObject({
      code: "EXPORT_PROTOCOL",
      message: expect.stringContaining("size does not match"),
    });
    await writeFile(path, bytes.subarray(0, 6));
    await expect(readSafetensors(path)).rejects.toMatchObject({ code: "EXPORT_PROTOCOL" });
  });
});
