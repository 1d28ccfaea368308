import { describe, expect, it } from "vitest";
import { buildAgentName, modelSlug } from "@trtforge/pipeline";

describe("the store agent of a build", () => {
  it("names a classifier without --task-name after its model, never the shared trt-classification", () => {
    expect(buildAgentName(undefined, "sequence-classification", "unitary/toxic-bert")).toBe("trt-toxic-bert");
    expect(buildAgentName(undefined, "sequence-classification", "cardiffnlp/twitter-roberta-base-sentiment-latest")).toBe(
      "trt-twitter-roberta-base-sentiment-latest",
    );
    expect(buildAgentName(undefined, "sequence-classification", "unitary/toxic-bert")).not.toBe(
      buildAgentName(undefined, "sequence-classification", "org/other-classifier"),
    );
  });

  it("uses --task-name when given, and trt-embeddings for feature extraction", () => {
    expect(buildAgentName("sentiment", "sequence-classification", "unitary/toxic-bert")).toBe("trt-sentiment");
    expect(buildAgentName(undefined, "feature-extraction", "sentence-transformers/all-MiniLM-L6-v2")).toBe("trt-embeddings");
  });

  it("slugs any model id into a valid store name", () => {
    expect(modelSlug("Org/My_Model.V2")).toBe("my_model.v2");
    expect(modelSlug("org/--Weird  Name!!")).toBe("weird-name");
    expect(modelSlug("org/a..b")).toBe("a.b");
    expect(modelSlug("org/...")).toBe("model");
  });
});
