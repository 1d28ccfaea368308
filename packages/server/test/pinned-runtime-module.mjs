// A runtime module for serve-engine's workers (ServeOptions.runtimeModule) in tests of the
// supervisor's GPU plan: it serves a one-number "embedding" (the worker's pid) and reports where the
// supervisor pinned the process: evidence.gpu_uuid is CUDA_VISIBLE_DEVICES, evidence.artifact names
// CUDA_DEVICE_ORDER. Plain JavaScript, because the worker process imports it as it is.
export async function openModels(options) {
  const evidence = (agent) => ({
    model_id: "test/pinned",
    hf_revision: "0123456789ab",
    agent,
    version: "v1",
    backend: "tensorrt",
    precision: "fp16",
    checksum: "cd".repeat(32),
    artifact: `pinned:${process.env.CUDA_DEVICE_ORDER ?? "unset"}`,
    gpu_uuid: process.env.CUDA_VISIBLE_DEVICES ?? "",
    compute_capability: "9.0",
  });
  const endpoints = options.models.map((ref) => {
    const model = {
      agent: ref.agent,
      version: "v1",
      kind: "embedding",
      evidence: evidence(ref.agent),
      profile: { batch: { min: 1, opt: 4, max: 8 }, sequence: { min: 1, opt: 4, max: 16 } },
      inputs: [
        { name: "input_ids", datatype: "INT64", shape: [-1, -1] },
        { name: "attention_mask", datatype: "INT64", shape: [-1, -1] },
      ],
      outputs: [{ name: "sentence_embedding", datatype: "FP32", shape: [-1, 1] }],
      labels: undefined,
      tokenize(texts) {
        const seqLen = 2;
        return {
          rows: texts.length,
          seqLen,
          inputIds: new BigInt64Array(texts.length * seqLen).fill(101n),
          attentionMask: new BigInt64Array(texts.length * seqLen).fill(1n),
        };
      },
      async run(batch) {
        return [
          { name: "sentence_embedding", datatype: "FP32", shape: [batch.rows, 1], data: new Float32Array(batch.rows).fill(process.pid) },
        ];
      },
      async dispose() {},
    };
    options.metrics.versionServing(model.evidence);
    return {
      agent: ref.agent,
      current: () => model,
      acquire: () => ({ model, release: () => {} }),
      infer: async (request) => ({ outputs: await request.model.run(request.tokens), evidence: request.model.evidence }),
    };
  });
  return { endpoints, close: async () => {} };
}
