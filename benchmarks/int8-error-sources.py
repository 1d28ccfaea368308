#!/usr/bin/env python3
"""Where MiniLM's W8A8 error comes from, per sequence length (issue 24).

Fake-quantizes the exporter's fp32 ONNX of all-MiniLM-L6-v2 the way insertQdq does (symmetric int8
Q/DQ, per-tensor activation scales from max calibration, per-output-channel weight scales) and
measures the sentence-embedding cosine against fp32 with onnxruntime on the CPU, on rows of real
AG News tokens joined up to each length (as fillShape fills the profile shapes):
  classes      only one class of MatMul in int8 (Q/K/V, Q·Kᵀ, P·V, attention output, FFN1, FFN2),
               then every class but one;
  sites        one MatMul at a time in int8: the measured per-layer sensitivity (1 - mean cosine);
  smoothquant  SmoothQuant (alpha 0.5, an inserted Mul, see smoothQuant of @trtforge/onnx-graph) on
               the LayerNorm outputs that feed Q/K/V and FFN1, then with the attention
               probabilities' amax scaled down and the most sensitive MatMuls kept in float.
Calibration articles: the first 300 of conf/samples/ag_news_1000.jsonl; measured: from the 501st on.
Usage: .venv/bin/python benchmarks/int8-error-sources.py --out logs/benchmarks/int8-error-sources.json
       [--rows 16] [--lengths 128,256] [--skip-sites --float node,node,...]
"""
import argparse, json, os, platform, time
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from w8a8_sim import MatMulGraph, Rows, add_input_args, cosines, qdq, session

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
add_input_args(ap)
ap.add_argument("--rows", type=int, default=16)
ap.add_argument("--lengths", default="128,256")
ap.add_argument("--skip-sites", action="store_true")
# With --skip-sites: the MatMuls to keep in float (a previous run's most sensitive sites).
ap.add_argument("--float", default="")
args = ap.parse_args()
lengths = [int(x) for x in args.lengths.split(",")]
started = time.time()

texts = [json.loads(l)["text"] for l in open(args.articles)]
fill = Rows(args.model).fill


model = onnx.load(args.onnx)
matmul_graph = MatMulGraph(model)
init, producer, matmuls, acts = matmul_graph.init, matmul_graph.producer, matmul_graph.matmuls, matmul_graph.acts
kind = matmul_graph.kind


classes = {}
for n in matmuls:
    classes.setdefault(kind(n), []).append(n.name)
all_names = {n.name for n in matmuls}
calib, held = texts[:300], texts[500:]

# Max calibration over every length, per-length maxima reported.
s = session(model, acts)
amax_by_length = {}
channel = {}
single = [a for a in acts if a.startswith(("layer_norm", "gelu"))]
for length in lengths:
    feeds = fill(calib, args.rows, length)
    band = {}
    for r in range(0, args.rows, 4):
        outs = s.run(acts, {k: v[r:r + 4] for k, v in feeds.items()})
        for a, v in zip(acts, outs):
            band[a] = max(band.get(a, 0.0), float(np.abs(v).max()))
            if a in single:
                channel[a] = np.maximum(channel.get(a, 0), np.abs(v).reshape(-1, v.shape[-1]).max(0))
    amax_by_length[length] = band
amax = {a: max(amax_by_length[l][a] for l in lengths) for a in acts}

reference = session(model)
tests = {l: fill(held, args.rows, l) for l in lengths}
ref_out = {l: reference.run(["sentence_embedding"], tests[l])[0] for l in lengths}


def measure(m):
    sess = session(m)
    out = {}
    for l in lengths:
        c = cosines(sess.run(["sentence_embedding"], tests[l])[0], ref_out[l])
        out[str(l)] = {"mean": round(float(c.mean()), 5), "p1": round(float(np.percentile(c, 1)), 5)}
    return out


def log(label, value):
    print(f"{label}: {value}", flush=True)
    return value


results = {"all_int8_max": log("all int8", measure(qdq(model, amax))), "classes": {}, "sites": {}, "smoothquant": {}}
for name, nodes in classes.items():
    results["classes"][f"only {name} int8 ({len(nodes)})"] = log(f"only {name}", measure(qdq(model, amax, all_names - set(nodes))))
    results["classes"][f"all but {name} int8"] = log(f"all but {name}", measure(qdq(model, amax, set(nodes))))
if not args.skip_sites:
    for n in matmuls:
        results["sites"][n.name] = {"kind": kind(n), **log(f"only {n.name}", measure(qdq(model, amax, all_names - {n.name})))}

# SmoothQuant on the LayerNorm outputs (Q/K/V and FFN1 inputs): an inserted Mul, weights' rows scaled.
def smooth(m, alpha, prefix=("layer_norm",)):
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    g = m2.graph
    inits = {t.name: t for t in g.initializer}
    a2, extra = dict(amax), {}
    for a in single:
        if not a.startswith(prefix):
            continue
        users = [n for n in g.node if n.op_type == "MatMul" and a in n.input]
        ws = [numpy_helper.to_array(inits[n.input[1]]) for n in users]
        wmax = np.max([np.abs(w).max(1) for w in ws], axis=0)
        sc = (np.maximum(channel[a], 1e-5) ** alpha / np.maximum(wmax, 1e-5) ** (1 - alpha)).astype(np.float32)
        for n, w in zip(users, ws):
            inits[n.input[1]].CopyFrom(numpy_helper.from_array((w * sc[:, None]).astype(np.float32), n.input[1]))
            n.input[0] = a + "_sm"
        g.initializer.append(numpy_helper.from_array((1 / sc).astype(np.float32), a + "_inv"))
        extra[a] = helper.make_node("Mul", [a, a + "_inv"], [a + "_sm"])
        a2[a + "_sm"] = float((channel[a] / sc).max())
    nodes = list(g.node)
    del g.node[:]
    for n in nodes:
        g.node.append(n)
        for o in n.output:
            if o in extra:
                g.node.append(extra[o])
    return m2, a2


smoothed, samax = smooth(model, 0.5)
probs = [[i for i in n.input if i not in init][0] for n in matmuls if n.name in classes["PV"]]
sq = results["smoothquant"]
sq["fp32 smoothed vs fp32"] = log("fp32 smoothed", measure(smoothed))
sq["only FFN1 int8, smoothed"] = log("sq only FFN1", measure(qdq(smoothed, samax, all_names - set(classes["FFN1"]))))
sq["only QKV int8, smoothed"] = log("sq only QKV", measure(qdq(smoothed, samax, all_names - set(classes["QKV"]))))
sq["all int8, smoothed"] = log("sq all", measure(qdq(smoothed, samax)))
ranked = sorted(results["sites"], key=lambda k: results["sites"][k][str(lengths[-1])]["mean"]) if results["sites"] else []
keep = set(ranked[:4]) if ranked else {x for x in args.float.split(",") if x}
sq["kept in float (4 most sensitive)"] = sorted(keep)
for f in (1.0, 0.5):
    a3 = dict(samax)
    for p in probs:
        a3[p] = samax[p] * f
    sq[f"smoothed, probabilities amax x{f}, 4 most sensitive in float"] = log(f"sq probs x{f} float4", measure(qdq(smoothed, a3, keep)))
results["amax_by_length"] = {str(l): {a: round(v, 4) for a, v in b.items()} for l, b in amax_by_length.items()}
results["settings"] = {"rows": args.rows, "lengths": lengths, "calibration_articles": 300, "held_out_from": 500,
                       "onnxruntime": ort.__version__, "cpu": platform.processor() or platform.machine(),
                       "seconds": round(time.time() - started, 1)}
os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
with open(args.out, "w") as f:
    json.dump(results, f, indent=2)
print(f"wrote {args.out}")
