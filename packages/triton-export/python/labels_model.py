"""Triton Python-backend model written by `model-store export-triton` for classifiers: logits in,
`label` (BYTES, from the version's id2label) and `probabilities` (FP32) out, as serve-engine
returns them: softmax for single-label heads, sigmoid for multi_label_classification.
"""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        here = os.path.join(args["model_repository"], args["model_version"])
        with open(os.path.join(here, "labels.json"), encoding="utf-8") as f:
            settings = json.load(f)
        self.labels = np.array([s.encode("utf-8") for s in settings["labels"]], dtype=object)
        self.multi_label = settings["problem_type"] == "multi_label_classification"
        self.logits = settings["logits"]

    def execute(self, requests):
        responses = []
        for request in requests:
            logits = pb_utils.get_input_tensor_by_name(request, self.logits).as_numpy().astype(np.float32)
            if self.multi_label:
                probs = 1.0 / (1.0 + np.exp(-logits))
            else:
                shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
                probs = shifted / shifted.sum(axis=1, keepdims=True)
            labels = self.labels[np.argmax(logits, axis=1)]
            responses.append(
                pb_utils.InferenceResponse(
                    [pb_utils.Tensor("label", labels), pb_utils.Tensor("probabilities", probs.astype(np.float32))]
                )
            )
        return responses
