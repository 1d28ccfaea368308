"""Triton Python-backend model written by `model-store export-triton`: text in, token tensors out.

It tokenizes with the store version's own tokenizer files (copied beside this file under
tokenizer/) through the Hugging Face `tokenizers` package, exactly as serve-engine's TypeScript
tokenizer does: special tokens added, rows padded on the right to the longest row of the request
with the pad token, and a row longer than the engine's sequence limit refused unless the request
asks for truncation (request parameter "truncate": true). tokenize.json (written by the exporter)
holds the limit, the pad token id and the inputs the model takes.
"""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils
from tokenizers import Tokenizer


class TritonPythonModel:
    def initialize(self, args):
        here = os.path.join(args["model_repository"], args["model_version"])
        with open(os.path.join(here, "tokenize.json"), encoding="utf-8") as f:
            self.settings = json.load(f)
        self.tokenizer = Tokenizer.from_file(os.path.join(here, "tokenizer", "tokenizer.json"))
        # tokenizer.json's own padding/truncation sections are ignored, as serve-engine ignores them:
        # each request is padded to its longest row and checked against the engine's limit.
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_length = int(self.settings["max_length"])
        # Truncation must happen before the special tokens are added (as Hugging Face does), so
        # truncating requests go through a second instance that truncates while encoding.
        self.truncating = Tokenizer.from_file(os.path.join(here, "tokenizer", "tokenizer.json"))
        self.truncating.no_padding()
        self.truncating.enable_truncation(self.max_length)
        self.pad_id = int(self.settings["pad_token_id"])
        self.input_names = list(self.settings["input_names"])

    def _encode(self, texts, truncate):
        tokenizer = self.truncating if truncate else self.tokenizer
        rows = []
        for i, enc in enumerate(tokenizer.encode_batch(texts, add_special_tokens=True)):
            if len(enc.ids) > self.max_length:
                raise ValueError(
                    f"text {i} has {len(enc.ids)} tokens, more than the model's limit of {self.max_length};"
                    ' shorten it or send the request parameter "truncate": true'
                )
            rows.append((enc.ids, enc.type_ids))
        seq = max(len(ids) for ids, _ in rows)
        out = {
            "input_ids": np.full((len(rows), seq), self.pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(rows), seq), dtype=np.int64),
            "token_type_ids": np.zeros((len(rows), seq), dtype=np.int64),
        }
        for r, (ids, types) in enumerate(rows):
            out["input_ids"][r, : len(ids)] = ids
            out["attention_mask"][r, : len(ids)] = 1
            out["token_type_ids"][r, : len(types)] = types
        return out

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                raw = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
                if raw.size == 0:
                    raise ValueError("no texts to tokenize: a batch needs at least one row")
                texts = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in raw]
                params = json.loads(request.parameters() or "{}")
                tensors = self._encode(texts, bool(params.get("truncate", False)))
                responses.append(
                    pb_utils.InferenceResponse([pb_utils.Tensor(name, tensors[name]) for name in self.input_names])
                )
            except (ValueError, UnicodeDecodeError) as err:
                # A bad request is the client's error (HTTP 400), as serve-engine answers it.
                code = getattr(pb_utils.TritonError, "INVALID_ARG", None)
                error = pb_utils.TritonError(str(err)) if code is None else pb_utils.TritonError(str(err), code)
                responses.append(pb_utils.InferenceResponse(error=error))
        return responses
