import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agNewsText, readArticles, seededOrder, splitArticles } from "../src/index.js";
import { agNewsCsv } from "../../../tests/support/ag-news.js";

const AG_NEWS = agNewsCsv();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trtforge-articles-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe("readArticles", () => {
  it("reads the 7,600 AG News test articles as title. description with newlines restored", async () => {
    const set = await readArticles(AG_NEWS);
    expect(set.format).toBe("agnews-csv");
    expect(set.articles).toHaveLength(7600);
    expect(set.badRows.count).toBe(0);
    expect(set.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(set.articles[0]!.text).toBe(
      "Fears for T N pension after talks. Unions representing workers at Turner   Newall say they are 'disappointed' after talks with stricken parent firm Federal Mogul.",
    );
    expect(set.articles[1]!.text).toContain("A second\nteam of rocketeers");
    expect(set.articles.some((a) => a.text.includes("\\"))).toBe(false);
  });

  it("counts bad CSV rows and keeps the good ones", async () => {
    const path = join(dir, "news.csv");
    await writeFile(path, '"1","Title A","Body A"\n"2","only two"\n"3","",""\n"4","Title B","Body\\B"\n');
    const set = await readArticles(path);
    expect(set.articles.map((a) => a.text)).toEqual(["Title A. Body A", "Title B. Body\nB"]);
    expect(set.badRows.count).toBe(2);
    expect(set.badRows.examples.map((b) => b.reason)).toEqual([expect.stringMatching(/3 columns/), "empty title and description"]);
  });

  it("reads JSONL with a text field and counts non-text rows", async () => {
    const path = join(dir, "calib.jsonl");
    await writeFile(path, ['{"text":"one"}', "not json", '{"text":42}', '{"title":"x"}', '{"text":"  "}', "", '{"text":"two"}'].join("\n"));
    const set = await readArticles(path);
    expect(set.format).toBe("jsonl");
    expect(set.articles.map((a) => a.text)).toEqual(["one", "two"]);
    expect(set.badRows.count).toBe(4);
    expect(set.badRows.examples[0]).toEqual({ origin: `${path}:2`, reason: "not JSON" });
  });

  it("reads a folder of text files in name order and a single file", async () => {
    await writeFile(join(dir, "b.txt"), "second");
    await writeFile(join(dir, "a.txt"), "first");
    await writeFile(join(dir, "c.jsonl"), '{"text":"third"}\n');
    await writeFile(join(dir, "notes.md"), "ignored");
    const set = await readArticles(dir);
    expect(set.format).toBe("text-dir");
    expect(set.articles.map((a) => a.text)).toEqual(["first", "second", "third"]);
    expect(set.badRows.count).toBe(1);
    const single = await readArticles(join(dir, "a.txt"));
    expect(single).toMatchObject({ format: "text-file", articles: [{ text: "first" }] });
  });

  it("hashes the dataset so that any change is seen", async () => {
    const path = join(dir, "x.jsonl");
    await writeFile(path, '{"text":"a"}\n');
    const first = (await readArticles(path)).sha256;
    await writeFile(path, '{"text":"b"}\n');
    expect((await readArticles(path)).sha256).not.toBe(first);
  });

  it("refuses a source with no usable article, with counts", async () => {
    const path = join(dir, "empty.jsonl");
    await writeFile(path, '{"text":""}\n{"id":1}\n');
    await expect(readArticles(path)).rejects.toMatchObject({ code: "DATASET_INVALID", message: expect.stringContaining("2 bad row(s)") });
    await mkdir(join(dir, "nothing"));
    await expect(readArticles(join(dir, "nothing"))).rejects.toMatchObject({ code: "DATASET_INVALID" });
    await expect(readArticles(join(dir, "absent.csv"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  it("refuses a binary file instead of taking it as one article", async () => {
    const path = join(dir, "program");
    await writeFile(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));
    await expect(readArticles(path)).rejects.toMatchObject({
      code: "DATASET_INVALID",
      message: expect.stringMatching(/no usable article.*binary file/),
    });
    const latin1 = join(dir, "latin1.txt");
    await writeFile(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await expect(readArticles(latin1)).rejects.toMatchObject({ code: "DATASET_INVALID" });
  });

  it("skips a CSV header line: a header-only CSV holds no article, a later non-numeric label is a bad row", async () => {
    const headerOnly = join(dir, "header.csv");
    await writeFile(headerOnly, "label,title,description\n");
    await expect(readArticles(headerOnly)).rejects.toMatchObject({
      code: "DATASET_INVALID",
      message: expect.stringContaining("no usable article (0 bad row(s))"),
    });
    const withHeader = join(dir, "with-header.csv");
    await writeFile(withHeader, 'label,title,description\n"1","Title A","Body A"\n"x","Title B","Body B"\n');
    const set = await readArticles(withHeader);
    expect(set.articles.map((a) => a.text)).toEqual(["Title A. Body A"]);
    expect(set.badRows).toEqual({ count: 1, examples: [{ origin: `${withHeader}:3`, reason: 'the label "x" is not a class number' }] });
  });
});

describe("sampling", () => {
  it("is deterministic for a seed, disjoint between sample and held-out, and seed-dependent", async () => {
    const set = await readArticles(AG_NEWS);
    const a = splitArticles(set, { seed: 7, sampleSize: 512, heldOutSize: 1000 });
    const b = splitArticles(set, { seed: 7, sampleSize: 512, heldOutSize: 1000 });
    expect(a.sample.map((x) => x.origin)).toEqual(b.sample.map((x) => x.origin));
    const sampled = new Set(a.sample.map((x) => x.origin));
    expect(a.heldOut.some((x) => sampled.has(x.origin))).toBe(false);
    expect(a.heldOut).toHaveLength(1000);
    const c = splitArticles(set, { seed: 8, sampleSize: 512 });
    expect(c.sample.map((x) => x.origin)).not.toEqual(a.sample.map((x) => x.origin));
  });

  it("gives a permutation", () => {
    expect([...seededOrder(100, 3)].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("refuses to sample more than the dataset holds, with counts", async () => {
    const path = join(dir, "small.jsonl");
    await writeFile(path, '{"text":"a"}\n{"text":"b"}\n{"text":""}\n');
    const set = await readArticles(path);
    expect(() => splitArticles(set, { seed: 1, sampleSize: 2, heldOutSize: 1 })).toThrowError(
      /has 2 usable article\(s\) \(1 bad row\(s\)\), 3 are needed/,
    );
  });

  it("formats AG News text", () => {
    expect(agNewsText(" T ", "line\\two")).toBe("T. line\ntwo");
    expect(agNewsText("Mills Grabs \\$1B Portfolio", "for \\$85\\\\Next")).toBe("Mills Grabs $1B Portfolio. for $85\n\nNext");
  });
});
