"""Calls every tritonclient.http method for the extensions a running serve-engine advertises in
/v2 (model_configuration, statistics, model_repository, classification) and checks the answers.

    python tests/serve/tritonclient_extensions.py --url 127.0.0.1:8000 --model trt-embeddings

Exits non-zero with a message on the first problem; prints one JSON summary line on success.
"""
import argparse
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def fail(message: str) -> None:
    print(f"tritonclient_extensions: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    client = httpclient.InferenceServerClient(args.url)
    summary: dict = {}

    extensions = client.get_server_metadata()["extensions"]
    summary["extensions"] = extensions
    for needed in ("binary_tensor_data", "model_configuration", "statistics", "model_repository", "classification"):
        if needed not in extensions:
            fail(f"/v2 does not advertise {needed}: {extensions}")

    # model_configuration
    config = client.get_model_config(args.model)
    inputs = {entry["name"]: entry for entry in config["input"]}
    if not all(entry.get("optional") for entry in inputs.values()):
        fail(f"config inputs are not all optional: {config['input']}")
    summary["config"] = {
        "max_batch_size": config["max_batch_size"],
        "inputs": sorted(inputs),
        "text_type": inputs["text"]["data_type"],
        "dynamic_batching": "dynamic_batching" in config,
    }

    # One text through the default (binary) path, so the statistics below have a request to count.
    text = httpclient.InferInput("text", [1, 1], "BYTES")
    text.set_data_from_numpy(np.array([[b"Stocks rally as inflation cools"]], dtype=np.object_))
    client.infer(args.model, [text])

    # statistics: all models, one model
    every = client.get_inference_statistics()["model_stats"]
    one = client.get_inference_statistics(args.model)["model_stats"]
    if [entry["name"] for entry in one] != [args.model] or not any(entry["name"] == args.model for entry in every):
        fail(f"statistics do not list {args.model}: {one}")
    stats = one[0]
    if stats["inference_stats"]["success"]["count"] < 1 or stats["inference_count"] < 1 or stats["execution_count"] < 1:
        fail(f"statistics did not count the request: {stats}")
    version_stats = client.get_inference_statistics(args.model, stats["version"])["model_stats"]
    if version_stats[0]["version"] != stats["version"]:
        fail(f"statistics of version {stats['version']}: {version_stats}")
    # batch_stats: one entry per executed batch size, each in Triton's InferBatchStatistics shape.
    batches = stats["batch_stats"]
    if not batches or any(
        entry["batch_size"] < 1 or entry["compute_infer"]["count"] < 1 or entry["compute_input"]["count"] != entry["compute_infer"]["count"]
        for entry in batches
    ):
        fail(f"batch_stats do not count the executed batches: {batches}")
    if sum(entry["compute_infer"]["count"] for entry in batches) != stats["execution_count"]:
        fail(f"batch_stats ({batches}) disagree with execution_count {stats['execution_count']}")
    # model_configuration again: one instance per worker (this server runs one CPU worker).
    if config["instance_group"] != [{"name": f"{args.model}_0", "kind": "KIND_CPU", "count": 1, "gpus": []}]:
        fail(f"instance_group: {config['instance_group']}")
    summary["statistics"] = {
        "version": stats["version"],
        "batch_sizes": [entry["batch_size"] for entry in batches],
        "success": stats["inference_stats"]["success"]["count"],
        "fail": stats["inference_stats"]["fail"]["count"],
    }

    # model_repository: index, load of a served model, refusals
    index = client.get_model_repository_index()
    if [entry["name"] for entry in index] != [args.model] or index[0]["state"] != "READY":
        fail(f"repository index: {index}")
    if index[0]["version"] != stats["version"]:
        fail(f"the repository index names version {index[0]['version']}, the statistics {stats['version']}")
    if not client.is_model_ready(args.model, index[0]["version"]):
        fail(f"version {index[0]['version']} from the repository index is not ready")
    client.load_model(args.model)
    refused = {}
    for name, call in (
        ("load_other", lambda: client.load_model("no-such-model")),
        ("unload", lambda: client.unload_model(args.model)),
    ):
        try:
            call()
        except InferenceServerException as err:
            refused[name] = err.status()
        else:
            fail(f"{name}: no InferenceServerException")
    if not client.is_model_ready(args.model):
        fail("the model is not ready after the repository calls")
    summary["repository"] = {"index": index, "refused": refused}

    # classification: an embedding model has no classes, so class_count is refused with 400.
    try:
        client.infer(args.model, [text], outputs=[httpclient.InferRequestedOutput("sentence_embedding", class_count=3)])
    except InferenceServerException as err:
        summary["classification"] = {"status": err.status(), "message": err.message()}
    else:
        fail("class_count on an embedding output was accepted")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
