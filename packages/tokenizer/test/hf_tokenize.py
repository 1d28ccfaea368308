"""Token ids from the Hugging Face fast tokenizer, the reference for the TypeScript tokenizer's tests.

stdin:  {"model_dir": str, "texts": [str],
         "runs": [{"name": str, "texts": [str] (optional, else the top-level texts),
                   "batch_size": int or null (null: all texts in one call),
                   "max_length": int, "padding": false | "longest" | "max_length", "truncation": bool}]}
stdout: {"transformers": str, "tokenizer_class": str, "model_input_names": [str],
         "pad_token_id": int or null, "model_max_length": int or null (null: no limit),
         "runs": {name: {"seconds": float, "input_ids": [[int]], "attention_mask": [[int]],
                         "token_type_ids": [[int]] (only when the tokenizer returns them)}}}
"seconds" times the tokenizer calls alone, not loading or JSON.
"""
import json
import os
import sys
import time

# Set before transformers is imported: it reads them at import time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

FIELDS = ("input_ids", "attention_mask", "token_type_ids")


def tokenize(tokenizer, texts, run):
    size = run["batch_size"] or len(texts)
    rows = {}
    seconds = 0.0
    for start in range(0, len(texts), size):
        began = time.perf_counter()
        encoded = tokenizer(
            texts[start : start + size],
            truncation=run["truncation"],
            max_length=run["max_length"],
            padding=run["padding"],
        )
        seconds += time.perf_counter() - began
        for field in FIELDS:
            if field in encoded:
                rows.setdefault(field, []).extend(encoded[field])
    return {"seconds": seconds, **rows}


def main():
    request = json.load(sys.stdin)
    tokenizer = AutoTokenizer.from_pretrained(request["model_dir"], local_files_only=True)
    if not tokenizer.is_fast:
        sys.exit(f"{type(tokenizer).__name__} is not a fast (tokenizer.json) tokenizer")
    runs = {run["name"]: tokenize(tokenizer, run.get("texts", request.get("texts")), run) for run in request["runs"]}
    limit = tokenizer.model_max_length
    json.dump(
        {
            "transformers": transformers.__version__,
            "tokenizer_class": type(tokenizer).__name__,
            "model_input_names": list(tokenizer.model_input_names),
            "pad_token_id": tokenizer.pad_token_id,
            # transformers stands for "no limit" with int(1e30)
            "model_max_length": limit if limit < 2**53 else None,
            "runs": runs,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
