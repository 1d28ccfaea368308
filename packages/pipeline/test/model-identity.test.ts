import { describe, expect, it } from "vitest";
import { checkBuildNames, derivedModelId } from "../src/model-identity.js";

describe("the model id of a plain folder", () => {
  it("is derived from a Hugging Face cache snapshot, as the exporter reads it", () => {
    expect(derivedModelId("/cache/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc123")).toBe(
      "sentence-transformers/all-MiniLM-L6-v2",
    );
    expect(derivedModelId("/cache/hub/models--gpt2/snapshots/abc")).toBe("gpt2");
  });

  it("is not guessed for any other folder", () => {
    expect(derivedModelId("/models/all-MiniLM-L6-v2")).toBeUndefined();
    expect(derivedModelId("/cache/hub/not-models--a--b/snapshots/abc")).toBeUndefined();
    expect(() => checkBuildNames({ folder: "/models/x", modelId: undefined, storeRef: undefined, taskName: undefined })).toThrow(
      expect.objectContaining({ code: "INVALID_NAME", input: "--model-id" }),
    );
  });

  it("checks the task name as the store agent it becomes", () => {
    expect(() => checkBuildNames({ folder: "/m", modelId: "a/b", storeRef: undefined, taskName: "../evil" })).toThrow(
      expect.objectContaining({ code: "INVALID_NAME", input: "--task-name" }),
    );
    expect(checkBuildNames({ folder: "/m", modelId: "a/b", storeRef: undefined, taskName: "sentiment" })).toBe("a/b");
  });
});
