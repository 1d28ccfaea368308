import { describe, expect, it } from "vitest";
import { JsonTextBounder, MAX_OTHER_STRING_UNITS } from "../src/http/json-text-bounder.js";
import { ProtocolError } from "../src/protocol/protocol-error.js";

/** Runs a body through a bounder in chunks of `size` bytes (1: every possible split point). */
function bound(body: string | Buffer, maxUnits: number, size = Number.POSITIVE_INFINITY) {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const bounder = new JsonTextBounder(maxUnits);
  const step = Math.min(size, bytes.length || 1);
  for (let at = 0; at < bytes.length; at += step) bounder.write(bytes.subarray(at, at + step));
  return bounder.end();
}

const request = (data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: "r1", ...extra, inputs: [{ name: "text", datatype: "BYTES", shape: [2], data }] });

describe("JsonTextBounder", () => {
  it("passes a body whose texts are within the limit through byte for byte", () => {
    const body = request(["short", 'quote " and \\ slash', "é ü 日本 😀"], { parameters: { truncate: true } });
    for (const size of [1, 3, 7, 1024]) {
      const { json, report } = bound(body, 64, size);
      expect(json.toString()).toBe(body);
      expect(report.cutStrings).toBe(0);
    }
  });

  it("keeps the first limit's worth of a long text, at a whole character, at any chunk split", () => {
    const texts = ["é".repeat(40), "ab\\n\\u00e9😀".repeat(20), "x".repeat(10), "😀".repeat(30)];
    const body = request(JSON.parse(`[${texts.map((t) => `"${t}"`).join(",")}]`) as string[]);
    const whole = bound(body, 17);
    for (const size of [1, 2, 5, 64]) expect(bound(body, 17, size).json.toString()).toBe(whole.json.toString());
    const parsed = JSON.parse(whole.json.toString()) as { id: string; inputs: { data: string[] }[] };
    const original = JSON.parse(body) as { inputs: { data: string[] }[] };
    expect(whole.report.cutStrings).toBe(3);
    expect(parsed.id).toBe("r1");
    parsed.inputs[0]!.data.forEach((kept, index) => {
      const full = original.inputs[0]!.data[index]!;
      expect(full.startsWith(kept)).toBe(true);
      // Never fewer than the limit's units (17), and at most one character (2 units) more.
      expect(kept.length).toBe(Math.min(full.length, kept.length));
      if (full.length > 17) expect(kept.length).toBeGreaterThanOrEqual(17);
      expect(kept.length).toBeLessThanOrEqual(18);
      expect((kept as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
    });
  });

  it("keeps escapes and quotes exact across chunk splits, in long spans kept and in cut tails", () => {
    const long = "a".repeat(70);
    // Escaped quotes and backslash runs of both parities, next to long ASCII spans (the native
    // path) and non-ASCII ones (counted byte by byte); a cut text's tail ends on \\ right before
    // its closing quote, and the text after it must come through whole.
    const texts = [
      String.raw`${long}\"${long}\\${long}\\\"é${long}`,
      String.raw`${long}${long}\"\\\\\"${long}\\`,
      String.raw`${long}\u0022${long}\\`,
      String.raw`after: \"kept\" \\ whole`,
    ];
    const body = `{"id":"r1","inputs":[{"name":"text","datatype":"BYTES","shape":[4],"data":[${texts.map((t) => `"${t}"`).join(",")}]}]}`;
    const original = (JSON.parse(body) as { inputs: { data: string[] }[] }).inputs[0]!.data;
    for (const limit of [50, 100, 150, 1000]) {
      const whole = bound(body, limit);
      const kept = (JSON.parse(whole.json.toString()) as { inputs: { data: string[] }[] }).inputs[0]!.data;
      expect(kept).toHaveLength(4);
      kept.forEach((text, index) => {
        expect(original[index]!.startsWith(text)).toBe(true);
        expect(text.length).toBeGreaterThanOrEqual(Math.min(limit, original[index]!.length));
      });
      expect(kept[3]).toBe(original[3]);
      if (limit === 1000) expect(whole.json.toString()).toBe(body);
      for (let size = 1; size <= 80; size += 1) expect(bound(body, limit, size).json.toString()).toBe(whole.json.toString());
    }
  });

  it("finds the end of a cut text of dense escapes, whatever its chunks", () => {
    const tail = '\\"\n\u0022'.repeat(5000);
    const escaped = JSON.stringify(tail);
    const body = `{"inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":[${escaped},"next"]}]}`;
    const whole = bound(body, 64);
    const data = (JSON.parse(whole.json.toString()) as { inputs: { data: string[] }[] }).inputs[0]!.data;
    expect(whole.report.cutStrings).toBe(1);
    expect(tail.startsWith(data[0]!)).toBe(true);
    expect(data[1]).toBe("next");
    for (const size of [1, 2, 3, 7, 100, 4096]) expect(bound(body, 64, size).json.toString()).toBe(whole.json.toString());
  });

  it("holds O(limit) of an 8 MiB text, whatever its chunks", () => {
    const huge = "news ".repeat((8 * 1024 * 1024) / 5);
    const body = Buffer.from(request([huge, "second"], { parameters: { truncate: false } }));
    const { json, report } = bound(body, 257, 65536);
    expect(report.seenBytes).toBe(body.length);
    expect(json.length).toBeLessThan(1024);
    expect(report.keptBytes).toBe(json.length);
    const parsed = JSON.parse(json.toString()) as { parameters: unknown; inputs: { data: string[] }[] };
    expect(parsed.inputs[0]!.data).toEqual([huge.slice(0, 257), "second"]);
    expect(parsed.parameters).toEqual({ truncate: false });
  });

  it("refuses a long string outside data at once, also under a key spelt with escapes", () => {
    const long = "y".repeat(MAX_OTHER_STRING_UNITS + 1);
    expect(() => bound(JSON.stringify({ id: long, inputs: [] }), 16)).toThrow(ProtocolError);
    expect(() => bound(JSON.stringify({ id: long, inputs: [] }), 16)).toThrow(/more than 65536 characters outside an input's "data"/);
    const escaped = `{"in\\u0070uts":[{"name":"text","data":["${long}"]}]}`;
    expect(() => bound(escaped, 16)).toThrow(ProtocolError);
    // The same text under the plain key is a text: cut, not refused.
    expect(bound(`{"inputs":[{"name":"text","data":["${long}"]}]}`, 16).report.cutStrings).toBe(1);
  });

  it("refuses nesting past 32 levels as soon as it arrives", () => {
    const bounder = new JsonTextBounder(16);
    bounder.write(Buffer.from(`{"inputs":[{"data":${"[".repeat(29)}`));
    expect(() => bounder.write(Buffer.from("["))).toThrow(/deeper than 32 levels/);
  });
});
