import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  importHfModel,
  inspectHfModelFolder,
  listAgents,
  listVersions,
  publish,
  resolveCurrent,
  resolveModelFolder,
  showVersion,
} from "../src/index.js";
import { storeAndSource, tempDir, writeTree } from "./helpers.js";

const HF_FILES = {
  "config.json": JSON.stringify({ model_type: "bert", architectures: ["BertModel"] }),
  "model.safetensors": "weights",
  "tokenizer.json": "{}",
  "vocab.txt": "[PAD]",
};

afterEach(() => {
  delete process.env.STRICT_MODEL_STORE;
});

describe("resolveCurrent", () => {
  it("returns the current version, or undefined when there is none, like get_current()", async () => {
    const { root, source } = await storeAndSource();
    expect(await resolveCurrent({ root, agent: "a" })).toBeUndefined();
    await publish({ root, agent: "a", version: "v1", sourceDir: source });
    expect(await resolveCurrent({ root, agent: "a" })).toMatchObject({
      version: "v1",
      layout: "versions",
      link: "versions/v1",
      path: join(root, "a", "versions", "v1"),
    });
    await rm(join(root, "a", "current"));
    await symlink("versions/v0", join(root, "a", "current"));
    expect(await resolveCurrent({ root, agent: "a" })).toBeUndefined();
  });

  it("throws under STRICT_MODEL_STORE=1 (or strict) with the code of the problem", async () => {
    const { root, source } = await storeAndSource();
    process.env.STRICT_MODEL_STORE = "1";
    await mkdir(root);
    await expect(resolveCurrent({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_AGENT_NOT_FOUND" });
    await publish({ root, agent: "a", version: "v1", sourceDir: source, setCurrent: false });
    await expect(resolveCurrent({ root, agent: "a" })).rejects.toMatchObject({ code: "STORE_VERSION_NOT_FOUND" });
    await symlink("versions/v0", join(root, "a", "current"));
    await expect(resolveCurrent({ root, agent: "a" })).rejects.toMatchObject({
      code: "STORE_CURRENT_DANGLING",
      input: join(root, "a", "current"),
    });
    await expect(resolveCurrent({ root, agent: "a", strict: false })).resolves.toBeUndefined();
  });

  it("reads the legacy layout: <agent>/v1 behind an absolute current symlink", async () => {
    const root = join(await tempDir(), "store");
    const legacy = join(root, "analyst", "v1");
    await writeTree(legacy, {
      "models--cardiffnlp--twitter-roberta-base-sentiment-latest/snapshots/3216a57f2a0d9c45a2e6c20157c20c49fb4bf9c7/config.json": "{}",
    });
    await symlink(legacy, join(root, "analyst", "current"));
    expect(await resolveCurrent({ root, agent: "analyst" })).toMatchObject({ version: "v1", layout: "legacy", link: legacy });
    const listing = await listVersions({ root, agent: "analyst" });
    expect(listing.versions).toEqual([expect.objectContaining({ version: "v1", layout: "legacy", isCurrent: true, manifest: "missing" })]);
    expect(await resolveModelFolder({ root, agent: "analyst" })).toMatchObject({
      layout: "hf-cache",
      modelId: "cardiffnlp/twitter-roberta-base-sentiment-latest",
      revision: "3216a57f2a0d9c45a2e6c20157c20c49fb4bf9c7",
      folder: join(
        legacy,
        "models--cardiffnlp--twitter-roberta-base-sentiment-latest",
        "snapshots",
        "3216a57f2a0d9c45a2e6c20157c20c49fb4bf9c7",
      ),
    });
    expect(await listAgents({ root })).toEqual([{ agent: "analyst", current: "v1", currentLayout: "legacy", versionCount: 1 }]);
  });

  it("accepts a current that is a real folder, as get_current() does", async () => {
    const root = join(await tempDir(), "store");
    await writeTree(join(root, "a", "current"), HF_FILES);
    expect(await resolveCurrent({ root, agent: "a" })).toMatchObject({ version: "current", layout: "directory" });
  });
});

describe("resolveModelFolder", () => {
  it("picks models--org--name/snapshots/<rev> by model id, refs/main first, and says which models a version holds", async () => {
    const { root, source } = await storeAndSource({
      "models--org--first/snapshots/aaa/config.json": "{}",
      "models--org--first/snapshots/bbb/config.json": "{}",
      "models--org--first/refs/main": "bbb\n",
      "models--other--second/snapshots/ccc/config.json": "{}",
    });
    await publish({ root, agent: "a", version: "v1", sourceDir: source });
    const versionPath = join(root, "a", "versions", "v1");
    expect(await resolveModelFolder({ root, agent: "a", modelId: "org/first" })).toMatchObject({
      revision: "bbb",
      folder: join(versionPath, "models--org--first", "snapshots", "bbb"),
    });
    expect(await resolveModelFolder({ root, agent: "a", modelId: "other/second" })).toMatchObject({
      revision: "ccc",
      modelId: "other/second",
    });
    expect(await resolveModelFolder({ root, agent: "a" })).toBeUndefined();
    await expect(resolveModelFolder({ root, agent: "a", strict: true })).rejects.toMatchObject({
      code: "STORE_NOT_A_MODEL",
      message: expect.stringContaining("org/first, other/second"),
    });
    await expect(resolveModelFolder({ root, agent: "a", modelId: "org/missing", strict: true })).rejects.toMatchObject({
      code: "STORE_NOT_A_MODEL",
    });
  });

  it("returns a flat version itself, with model id and revision from the manifest", async () => {
    const { dir, root } = await storeAndSource();
    const model = join(dir, "model");
    await writeTree(model, HF_FILES);
    await importHfModel({
      root,
      agent: "memory",
      modelDir: model,
      modelId: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "c9745ed1",
      version: "v1",
    });
    expect(await resolveModelFolder({ root, agent: "memory" })).toMatchObject({
      folder: join(root, "memory", "versions", "v1"),
      layout: "flat",
      modelId: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "c9745ed1",
    });
    await expect(resolveModelFolder({ root, agent: "memory", modelId: "someone/else", strict: true })).rejects.toMatchObject({
      code: "STORE_NOT_A_MODEL",
    });
    const shown = await showVersion({ root, agent: "memory" });
    expect(shown).toMatchObject({
      version: "v1",
      isCurrent: true,
      model: { layout: "flat" },
      manifest: { metadata: { model_id: "sentence-transformers/all-MiniLM-L6-v2", model_type: "bert" } },
    });
  });
});

describe("importHfModel", () => {
  it("can store the model in HF cache layout, where JustNewsAgent's loaders look first", async () => {
    const { dir, root } = await storeAndSource();
    const model = join(dir, "model");
    await writeTree(model, { ...HF_FILES, ".git/HEAD": "ref", "1_Pooling/config.json": "{}" });
    const result = await importHfModel({
      root,
      agent: "memory",
      modelDir: model,
      modelId: "org/name",
      revision: "abc123",
      version: "v1",
      layout: "hf-cache",
    });
    expect(result).toMatchObject({ layout: "hf-cache", modelId: "org/name", revision: "abc123", fileCount: 5 });
    expect(await resolveModelFolder({ root, agent: "memory" })).toMatchObject({
      folder: join(root, "memory", "versions", "v1", "models--org--name", "snapshots", "abc123"),
      revision: "abc123",
    });
    await expect(importHfModel({ root, agent: "memory", modelDir: model, version: "v2", layout: "hf-cache" })).rejects.toMatchObject({
      code: "INVALID_OPTION",
    });
  });

  it("reads model id and revision from a Hugging Face cache folder and copies the blobs its symlinks point to", async () => {
    const { dir, root } = await storeAndSource();
    const repo = join(dir, "hub", "models--sentence-transformers--all-MiniLM-L6-v2");
    const rev = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
    await writeTree(repo, { "refs/main": rev, "blobs/1": HF_FILES["config.json"], "blobs/2": "weights", "blobs/3": "{}" });
    const snapshot = join(repo, "snapshots", rev);
    await mkdir(snapshot, { recursive: true });
    await symlink("../../blobs/1", join(snapshot, "config.json"));
    await symlink("../../blobs/2", join(snapshot, "model.safetensors"));
    await symlink("../../blobs/3", join(snapshot, "tokenizer.json"));
    const result = await importHfModel({ root, agent: "memory", modelDir: repo, version: "v1" });
    expect(result).toMatchObject({
      modelId: "sentence-transformers/all-MiniLM-L6-v2",
      revision: rev,
      fileCount: 3,
      totalBytes: HF_FILES["config.json"].length + 9,
    });
  });

  it("refuses a folder that is not a model, naming everything that is missing, before touching the store", async () => {
    const dir = await tempDir();
    await writeTree(dir, {
      "notes/readme.md": "hi",
      "sharded/config.json": "[]",
      "sharded/model.safetensors.index.json": JSON.stringify({
        weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" },
      }),
      "sharded/model-00001-of-00002.safetensors": "w",
      "sharded/vocab.txt": "x",
    });
    const root = join(dir, "store");
    await expect(importHfModel({ root, agent: "a", modelDir: join(dir, "notes") })).rejects.toMatchObject({
      code: "STORE_NOT_A_MODEL",
      message: expect.stringMatching(/config\.json is missing.*no weights.*no tokenizer/),
    });
    await expect(inspectHfModelFolder(join(dir, "sharded"))).rejects.toMatchObject({
      code: "STORE_NOT_A_MODEL",
      message: expect.stringMatching(/config\.json is not a JSON object.*model-00002-of-00002\.safetensors/),
    });
    await expect(importHfModel({ root, agent: "a", modelDir: join(dir, "nowhere") })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    await expect(importHfModel({ root, agent: "a", modelDir: join(dir, "notes"), modelId: "bad--id" })).rejects.toMatchObject({
      code: "INVALID_NAME",
    });
    await writeFile(join(dir, "plain-file"), "x");
    await expect(importHfModel({ root, agent: "a", modelDir: join(dir, "plain-file") })).rejects.toMatchObject({ code: "NOT_A_DIRECTORY" });
    await expect(rm(root)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
