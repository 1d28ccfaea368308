"""Drives a running serve-engine with the real Triton client (tritonclient[http]) and compares its
embeddings with onnxruntime on the published version's own model.onnx, article by article.

    python tests/serve/tritonclient_check.py --url 127.0.0.1:8000 --model trt-embeddings \
        --version-dir STORE/trt-embeddings/versions/V --articles data/ag_news/test.csv

Exits non-zero with a message on the first mismatch; prints one JSON summary line on success.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import tritonclient.http as httpclient
from tokenizers import Tokenizer
from tritonclient.utils import InferenceServerException


def fail(message: str) -> None:
    print(f"tritonclient_check: {message}", file=sys.stderr)
    sys.exit(1)


def articles(path: str, count: int, tokenizer: Tokenizer, max_tokens: int) -> list[str]:
    texts = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            text = f"{row[1]}. {row[2]}"
            if len(tokenizer.encode(text).ids) <= max_tokens:
                texts.append(text)
            if len(texts) == count:
                return texts
    fail(f"fewer than {count} articles of at most {max_tokens} tokens in {path}")
    return texts


def reference(session: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str]) -> np.ndarray:
    names = {i.name for i in session.get_inputs()}
    rows = []
    for text in texts:
        encoding = tokenizer.encode(text)
        feeds = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        (embedding,) = session.run(["sentence_embedding"], {k: v for k, v in feeds.items() if k in names})
        rows.append(embedding[0])
    return np.stack(rows)


MIN_COSINE = 0.9999
MAX_ABS_DIFF = 1e-4


def compare(what: str, got: np.ndarray, want: np.ndarray) -> dict:
    if got is None or got.shape != want.shape:
        fail(f"{what}: shape {None if got is None else got.shape}, expected {want.shape}")
    cosine = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    max_abs = float(np.max(np.abs(got - want)))
    if float(cosine.min()) < MIN_COSINE or max_abs > MAX_ABS_DIFF:
        fail(f"{what}: cosine min {cosine.min()}, max abs diff {max_abs} against onnxruntime on model.onnx")
    return {"cosine_min": float(cosine.min()), "max_abs_diff": max_abs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--version-dir", required=True)
    parser.add_argument("--articles", required=True)
    parser.add_argument("--count", type=int, default=8)
    # An fp16 variant serving (model.gpu.onnx on the GPU) is compared with the fp32 ONNX at fp16's tolerance.
    parser.add_argument("--min-cosine", type=float, default=MIN_COSINE)
    parser.add_argument("--max-abs-diff", type=float, default=MAX_ABS_DIFF)
    args = parser.parse_args()
    globals().update(MIN_COSINE=args.min_cosine, MAX_ABS_DIFF=args.max_abs_diff)

    tokenizer = Tokenizer.from_file(os.path.join(args.version_dir, "tokenizer", "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    session = ort.InferenceSession(os.path.join(args.version_dir, "model.onnx"), providers=["CPUExecutionProvider"])
    client = httpclient.InferenceServerClient(args.url)
    summary: dict = {}

    if not client.is_server_live() or not client.is_server_ready():
        fail("server not live and ready")
    server = client.get_server_metadata()
    if "binary_tensor_data" not in server["extensions"]:
        fail(f"server metadata lacks binary_tensor_data: {server}")
    metadata = client.get_model_metadata(args.model)
    max_seq = int(metadata["parameters"]["max_sequence_length"])
    version = os.path.basename(os.path.normpath(args.version_dir))
    if metadata["versions"] != [version] or metadata["parameters"]["version"] != version:
        fail(f"model metadata names version {metadata['versions']}, expected {version}")
    if not client.is_model_ready(args.model) or not client.is_model_ready(args.model, version):
        fail("model not ready")

    texts = articles(args.articles, args.count, tokenizer, max_seq)
    want = reference(session, tokenizer, texts)
    data = np.array([t.encode("utf-8") for t in texts], dtype=np.object_)

    # Default client call: binary BYTES in, every output in binary.
    text = httpclient.InferInput("text", [len(texts)], "BYTES")
    text.set_data_from_numpy(data, binary_data=True)
    result = client.infer(args.model, [text])
    summary["binary"] = compare("binary infer", result.as_numpy("sentence_embedding"), want)
    hidden = result.as_numpy("last_hidden_state")
    if hidden is None or hidden.shape[0] != len(texts) or hidden.shape[2] != 384:
        fail(f"binary infer: last_hidden_state shape {None if hidden is None else hidden.shape}")
    parameters = result.get_response()["parameters"]
    for key in ("model_id", "hf_revision", "agent", "version", "backend", "precision", "checksum"):
        if key not in parameters:
            fail(f"infer response parameters lack {key}: {parameters}")
    summary["evidence"] = parameters

    # JSON text in, one requested output in JSON: the other output must not come back.
    text = httpclient.InferInput("text", [len(texts)], "BYTES")
    text.set_data_from_numpy(data, binary_data=False)
    wanted = [httpclient.InferRequestedOutput("sentence_embedding", binary_data=False)]
    result = client.infer(args.model, [text], outputs=wanted, model_version=version)
    summary["json"] = compare("JSON infer", result.as_numpy("sentence_embedding"), want)
    if result.as_numpy("last_hidden_state") is not None:
        fail("JSON infer returned last_hidden_state though only sentence_embedding was requested")
    if [o["name"] for o in result.get_response()["outputs"]] != ["sentence_embedding"]:
        fail(f"JSON infer outputs: {result.get_response()['outputs']}")

    # Errors reach the client as InferenceServerException with the server's message and status.
    errors = {}
    long_text = httpclient.InferInput("text", [1], "BYTES")
    long_text.set_data_from_numpy(np.array([" ".join(["word"] * (max_seq + 50)).encode()], dtype=np.object_))
    for name, call in (
        ("too_long", lambda: client.infer(args.model, [long_text])),
        ("unknown_model", lambda: client.infer("no-such-model", [long_text])),
        ("unknown_version", lambda: client.get_model_metadata(args.model, "no-such-version")),
    ):
        try:
            call()
        except InferenceServerException as err:
            errors[name] = {"status": err.status(), "message": err.message()}
        else:
            fail(f"{name}: no InferenceServerException")
    truncated = client.infer(args.model, [long_text], parameters={"truncate": True})
    if truncated.as_numpy("sentence_embedding").shape != (1, 384):
        fail("truncate: no embedding")
    summary["errors"] = errors
    summary["articles"] = len(texts)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
