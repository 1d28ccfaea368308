"""Independent figures for tests/compare-engines.test.ts: the same articles through the Hugging Face
tokenizer and Python's onnxruntime, with numpy, never through trtforge's TypeScript.
Reads a JSON job on stdin, prints the figures as JSON."""
import json
import sys

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer


def run(onnx, tok, texts, output, batch, max_len):
    session = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    rows = []
    for start in range(0, len(texts), batch):
        enc = tok(texts[start : start + batch], padding="longest", truncation=True, max_length=max_len, return_tensors="np")
        feed = {k: v.astype(np.int64) for k, v in enc.items() if k in names}
        if "token_type_ids" in names and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        rows.append(session.run([output], feed)[0])
    return np.concatenate(rows).astype(np.float64)


def neighbours(unit, k):
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return [set(np.argsort(-sims[i], kind="stable")[:k]) for i in range(len(unit))]


job = json.load(sys.stdin)
tok = AutoTokenizer.from_pretrained(job["tokenizer"])
a = run(job["baseline"], tok, job["texts"], job["output"], job["batch"], job["max_len"])
b = run(job["candidate"], tok, job["texts"], job["output"], job["batch"], job["max_len"])
if job["kind"] == "embedding":
    cos = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    ua = a / np.linalg.norm(a, axis=1, keepdims=True)
    ub = b / np.linalg.norm(b, axis=1, keepdims=True)
    na, nb = neighbours(ua, 10), neighbours(ub, 10)
    overlap = [len(x & y) / 10 for x, y in zip(na, nb)]
    out = {"cosine_mean": cos.mean(), "cosine_min": cos.min(), "max_abs_diff": np.abs(a - b).max(), "neighbour_overlap_mean": float(np.mean(overlap))}
else:
    pa = np.exp(a - a.max(1, keepdims=True)); pa /= pa.sum(1, keepdims=True)
    pb = np.exp(b - b.max(1, keepdims=True)); pb /= pb.sum(1, keepdims=True)
    wa, wb = pa.argmax(1), pb.argmax(1)
    delta = np.abs(pb[np.arange(len(wa)), wa] - pa[np.arange(len(wa)), wa])
    out = {"agreement": float((wa == wb).mean()), "flips": int((wa != wb).sum()), "confidence_delta_mean": delta.mean(), "confidence_delta_max": delta.max()}
print(json.dumps({k: float(v) for k, v in out.items()}))
