#!/usr/bin/env python3
"""Searching MiniLM's W8A8 plan for issue 24's goals at every profile shape (sibling of int8-error-sources.py).

Same fake-quantized form as int8-error-sources.py (insertQdq's: symmetric int8 Q/DQ with zero point
0, per-tensor activation scales, per-output-channel weight scales; SmoothQuant as an inserted Mul on
the LayerNorm outputs that feed Q/K/V and FFN1), measured against fp32 with onnxruntime on the CPU
at the demo profile's shapes [1,1], [16,128] and [32,256], rows of real AG News tokens joined from
the 501st article on (held out), mean and 1st-percentile sentence-embedding cosine.

Modes (--modes, comma list; each result a row of the JSON's "results"):
  plan     planW8A8's choices as the demo build made them: alpha 0.5, per-layer probability clips
           (1, .5, 1, .25, .5, .25), FFN2 of layers 0-2 and P.V of layer 3 in float;
  mse      each activation's amax the fraction of its calibrated max (grid 0.05-1) that minimises
           the int8 quantization MSE of that tensor over the calibration rows (every activation,
           the GELU outputs and/or the attention probabilities); percentile 99.99/99.999;
  clips    per-layer probability clip from a finer grid, chosen one layer at a time on a probe's
           output cosine (as planW8A8 does with its grid), on the max or the GELU-MSE amax;
  alpha    SmoothQuant alpha per LayerNorm output from {.3,.4,.6,.7,.8}, chosen on the dev probe;
  final    the recipe per probe (--final-probes): GELU MSE amax, clips with every MatMul in int8,
           the 4 most sensitive MatMuls (one at a time) in float; then each GELU output's amax
           searched on the probe, and the float set again;
  greedy   final, plus the float set grown one MatMul at a time by the joint probe cosine.
Probes (what choices are made on; the lowest mean cosine over their shapes): plan = planW8A8's
(8 calibration articles at [2,256], guards [1,1], [2,128]); mid = 32 articles at [4,256], guards
[1,1], [4,128]; dev = articles 301-500 (neither calibration nor held out) at [8,256], [8,128], [1,1].
--evaluate ONNX only measures a given Q/DQ ONNX (Q/DQ kept as fake quantization: no graph optimization).
Calibration: the first 300 articles, --calib-rows rows at 128 and at 256 tokens.
Usage: .venv/bin/python benchmarks/int8-w8a8-search.py --out logs/benchmarks/int8-w8a8-search.json
       [--modes plan,mse,clips,alpha,final,greedy] [--final-probes plan,mid,dev] [--evaluate qdq.onnx]
"""
import argparse, json, os, platform, time
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from w8a8_sim import MatMulGraph, ROOT, Rows, add_input_args, cosines, qdq, session

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
add_input_args(ap)
ap.add_argument("--calib-rows", type=int, default=16)
ap.add_argument("--shapes", default="1x1,16x128,32x256", help="held-out shapes, batch x tokens")
ap.add_argument("--modes", default="all", help="comma list of mode groups: plan,mse,clips,alpha,greedy,final (default all)")
ap.add_argument("--evaluate", help="only measure this Q/DQ ONNX (e.g. benchmarks/w8a8-plan.mjs's) on the held-out shapes")
ap.add_argument("--final-probes", default="plan,mid,dev", help="probes the final recipe is searched on")
args = ap.parse_args()
started = time.time()
modes = set(args.modes.split(",")) if args.modes != "all" else {"plan", "mse", "clips", "alpha", "greedy", "final"}

texts = [json.loads(l)["text"] for l in open(args.articles)]
fill = Rows(args.model).fill


model = onnx.load(args.onnx)
matmul_graph = MatMulGraph(model)
init, producer, matmuls, acts = matmul_graph.init, matmul_graph.producer, matmul_graph.matmuls, matmul_graph.acts
all_names = [n.name for n in matmuls]
kind = matmul_graph.kind


kinds = {n.name: kind(n) for n in matmuls}
layer_of = {}
for k in set(kinds.values()):
    for i, n in enumerate([m for m in matmuls if kinds[m.name] == k]):
        layer_of[n.name] = i // 3 if k == "QKV" else i
label = {n: f"{kinds[n]}{layer_of[n]}" for n in all_names}
calib, dev, held = texts[:300], texts[300:500], texts[500:]
ln_outs = [a for a in acts if a.startswith("layer_norm")]
probs = [[i for i in n.input if i not in init][0] for n in matmuls if kinds[n.name] == "PV"]
gelus = [a for a in acts if a.startswith("gelu")]

# --- calibration: max per tensor over 128 and 256 tokens, a value sample per tensor, token vectors of the LayerNorm outputs.
rng = np.random.default_rng(0)
s = session(model, acts)
amax, channel, sample, vectors = {}, {}, {}, {}
PER_BATCH = 1 << 17
for length in (128, 256):
    feeds = fill(calib, args.calib_rows, length)
    for r in range(0, args.calib_rows, 4):
        outs = s.run(acts, {k: v[r:r + 4] for k, v in feeds.items()})
        for a, v in zip(acts, outs):
            amax[a] = max(amax.get(a, 0.0), float(np.abs(v).max()))
            flat = v.reshape(-1)
            sample.setdefault(a, []).append(flat[rng.integers(0, flat.size, PER_BATCH)])
            if a in ln_outs:
                rows2d = v.reshape(-1, v.shape[-1])
                channel[a] = np.maximum(channel.get(a, 0), np.abs(rows2d).max(0))
                vectors.setdefault(a, []).append(rows2d[rng.integers(0, rows2d.shape[0], 512)])
sample = {a: np.concatenate(v).astype(np.float64) for a, v in sample.items()}
vectors = {a: np.concatenate(v) for a, v in vectors.items()}
del s
print(f"calibrated {len(acts)} tensors in {time.time() - started:.0f} s", flush=True)

FRACTIONS = np.round(np.concatenate([np.arange(0.05, 0.3, 0.025), np.arange(0.3, 1.0001, 0.05)]), 4)


def qmse(x, a):
    st = a / 127
    return float(np.mean((np.clip(np.round(x / st), -127, 127) * st - x) ** 2))


def mse_amax(x, top, lo=0.0):
    """The amax among FRACTIONS (>= lo) x top that minimises the symmetric int8 quantization MSE of the values x."""
    grid = [f for f in FRACTIONS if f >= lo - 1e-9]
    errs = [qmse(x, f * top) for f in grid]
    return float(grid[int(np.argmin(errs))] * top)


def percentile_amax(x, p):
    return float(np.percentile(np.abs(x), p))


# --- SmoothQuant with an alpha per tensor; the smoothed tensor's amax is its smoothed channel max.
def smooth(m, alphas):
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    g = m2.graph
    inits = {t.name: t for t in g.initializer}
    a2, extra, factors = dict(amax), {}, {}
    for a in ln_outs:
        alpha = alphas.get(a)
        if alpha is None:
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
        factors[a + "_sm"] = (a, sc)
    nodes = list(g.node)
    del g.node[:]
    for n in nodes:
        g.node.append(n)
        for o in n.output:
            if o in extra:
                g.node.append(extra[o])
    return m2, a2, factors


def smoothed_sample(factors, t):
    src, sc = factors[t]
    return (vectors[src] / sc).reshape(-1).astype(np.float64)


# --- measuring: held-out shapes (reported) and probes (what choices are made on).
shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
reference = session(model)
tests = {f"[{b},{l}]": fill(held, b, l) for b, l in shapes}
ref_out = {k: reference.run(["sentence_embedding"], f)[0] for k, f in tests.items()}
PROBES = {
    # planW8A8's: PROBE_TEXTS (8) calibration articles at [2, longest] with guards [1,1] and [2,128].
    "plan": {"[2,256]": fill(calib[:8], 2, 256), "[1,1]": fill(calib[:8], 1, 1), "[2,128]": fill(calib[:8], 2, 128)},
    # the plan's form with more rows and articles: 32 calibration articles at [4,256], guards [1,1] and [4,128].
    "mid": {"[4,256]": fill(calib[:32], 4, 256), "[1,1]": fill(calib[:32], 1, 1), "[4,128]": fill(calib[:32], 4, 128)},
    # a larger dev probe from articles 300-500 (neither calibration nor held out).
    "dev": {"[8,256]": fill(dev, 8, 256), "[1,1]": fill(dev, 1, 1), "[8,128]": fill(dev, 8, 128)},
}
probe_ref = {p: {k: reference.run(["sentence_embedding"], f)[0] for k, f in feeds.items()} for p, feeds in PROBES.items()}
n_probes = [0]


def measure(m, optimize=True):
    sess = session(m, optimize=optimize)
    out = {}
    for k, f in tests.items():
        c = cosines(sess.run(["sentence_embedding"], f)[0], ref_out[k])
        out[k] = {"mean": round(float(c.mean()), 5), "p1": round(float(np.percentile(c, 1)), 5)}
    out["worst_mean"] = min(v["mean"] for k, v in out.items() if k != "worst_mean")
    return out


def probe(m, which):
    """Lowest mean cosine over the probe's shapes (ShapeProbe.cosine)."""
    n_probes[0] += 1
    sess = session(m)
    return min(float(cosines(sess.run(["sentence_embedding"], f)[0], probe_ref[which][k]).mean()) for k, f in PROBES[which].items())


results = {}


def log(name, value, **extra):
    print(f"{name}: {value} {extra if extra else ''} ({time.time() - started:.0f} s)", flush=True)
    results[name] = {"held_out": value, **extra}
    with open(args.out, "w") as f:
        json.dump({"results": results, "settings": settings()}, f, indent=2)
    return value


def settings():
    return {"calibration_rows_per_length": args.calib_rows, "calibration_articles": 300, "held_out_from": 500,
            "dev_articles": "300-500", "shapes": args.shapes, "onnxruntime": ort.__version__,
            "cpu": platform.processor() or platform.machine(), "probe_runs": n_probes[0],
            "seconds": round(time.time() - started, 1), "load_average": os.getloadavg()}


os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
if args.evaluate:
    log(f"evaluate {os.path.relpath(os.path.abspath(args.evaluate), ROOT)}", measure(onnx.load(args.evaluate), optimize=False))
    raise SystemExit(0)
half = {a: 0.5 for a in ln_outs}
sm05, samax05, fac05 = smooth(model, half)
PLAN_CLIPS = [1, 0.5, 1, 0.25, 0.5, 0.25]
PLAN_FLOAT = {n for n in all_names if label[n] in ("FFN20", "FFN21", "FFN22", "PV3")}


def with_clips(a, clips):
    a = dict(a)
    for p, c in zip(probs, clips):
        a[p] = amax[p] * c
    return a


def mse_scales(base, factors, tensors, lo=0.0):
    a = dict(base)
    for t in tensors:
        x = smoothed_sample(factors, t) if t in factors else sample[t]
        a[t] = mse_amax(x, base[t], lo)
    return a


def search_clips(m, base, floats, which, grid):
    """planW8A8's clip search, one layer at a time, on a finer grid."""
    a = dict(base)
    best = probe(qdq(m, a, floats), which)
    chosen = []
    for p in probs:
        b, pick = a[p], 1.0
        for f in grid:
            if f == 1:
                continue
            c = probe(qdq(m, {**a, p: b * f}, floats), which)
            if c > best:
                best, pick = c, f
        a[p] = b * pick
        chosen.append(pick)
    return a, chosen, best


def sensitivity(m, a, which):
    return sorted(((1 - probe(qdq(m, a, set(all_names) - {n}), which), n) for n in all_names), reverse=True)


def greedy_float(m, a, which, budget=4, pool=None):
    """Grow the float set one MatMul at a time: the one whose float gives the best joint probe cosine."""
    chosen, trace = [], []
    cands = list(pool or all_names)
    for _ in range(budget):
        scored = sorted(((probe(qdq(m, a, set(chosen) | {n}), which), n) for n in cands if n not in chosen), reverse=True)
        chosen.append(scored[0][1])
        trace.append({"added": label[scored[0][1]], "probe_cosine": round(scored[0][0], 5)})
        cands = [n for _, n in scored[: max(8, len(scored) // 3)]]
    return set(chosen), trace


def qtensors(m, a):
    """The activations the Q/DQ form quantizes: MatMul inputs with an amax."""
    return sorted({i for n in m.graph.node if n.op_type == "MatMul" for i in n.input if i in a})


def names(s):
    return sorted(label[n] for n in s)


if "plan" in modes:
    log("fp32 smoothed (alpha 0.5) vs fp32", measure(sm05))
    log("all int8, smoothed, max amax", measure(qdq(sm05, samax05)))
    log("plan today (alpha 0.5, clips 1/.5/1/.25/.5/.25, 4 float)", measure(qdq(sm05, with_clips(samax05, PLAN_CLIPS), PLAN_FLOAT)),
        float=names(PLAN_FLOAT))

if "mse" in modes:
    q_tensors = qtensors(sm05, samax05)
    mse_all = mse_scales(samax05, fac05, q_tensors)
    log("all int8, smoothed, amax by MSE (all activations)", measure(qdq(sm05, mse_all)),
        fractions={t: round(mse_all[t] / samax05[t], 3) for t in q_tensors})
    mse_gp = mse_scales(samax05, fac05, gelus + probs)
    log("all int8, smoothed, amax by MSE (GELU outputs and probabilities)", measure(qdq(sm05, mse_gp)))
    mse_g = mse_scales(samax05, fac05, gelus)
    log("all int8, smoothed, amax by MSE (GELU outputs only)", measure(qdq(sm05, mse_g)))
    mse_p = mse_scales(samax05, fac05, probs)
    log("all int8, smoothed, amax by MSE (probabilities only)", measure(qdq(sm05, mse_p)))
    for pct in (99.99, 99.999):
        a = dict(samax05)
        for t in gelus + probs:
            a[t] = percentile_amax(sample[t], pct)
        log(f"all int8, smoothed, percentile {pct} (GELU outputs and probabilities)", measure(qdq(sm05, a)))
    log("MSE (all) + plan's float set", measure(qdq(sm05, mse_all, PLAN_FLOAT)), float=names(PLAN_FLOAT))
    results["_mse_all_fractions"] = {label.get(t, t): round(mse_all[t] / samax05[t], 3) for t in q_tensors}

# What the later modes start from: SmoothQuant alpha 0.5, the GELU outputs' amax by MSE, every other amax the max
# (MSE on every activation lost at [1,1] and [16,128]; on the probabilities it keeps ~0.95 of the max).
mse_g = mse_scales(samax05, fac05, gelus)
CLIP_GRID = [1, 0.7, 0.5, 0.35, 0.25, 0.18, 0.125]
GELU_GRID = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0]


def search_amax(m, base, floats, which, tensors, grid, ref):
    """One tensor at a time: the amax among grid x ref[t] that gives the best probe cosine (kept only if better)."""
    a = dict(base)
    best = probe(qdq(m, a, floats), which)
    chosen = []
    for t in tensors:
        pick = None
        for f in grid:
            c = probe(qdq(m, {**a, t: ref[t] * f}, floats), which)
            if c > best:
                best, pick = c, f
        if pick is not None:
            a[t] = ref[t] * pick
        chosen.append(pick)
    return a, chosen, best


if "clips" in modes:
    for which in ("plan", "dev"):
        a, chosen, best = search_clips(sm05, samax05, PLAN_FLOAT, which, CLIP_GRID)
        log(f"max amax, fine clip grid on {which} probe, plan's float set", measure(qdq(sm05, a, PLAN_FLOAT)), clips=chosen,
            probe_cosine=round(best, 5))
        a, chosen, best = search_clips(sm05, mse_g, PLAN_FLOAT, which, CLIP_GRID)
        log(f"GELU MSE amax, fine clip grid on {which} probe, plan's float set", measure(qdq(sm05, a, PLAN_FLOAT)), clips=chosen,
            probe_cosine=round(best, 5))

if "alpha" in modes:
    for which in ("dev",):
        clipped, clips, _ = search_clips(sm05, mse_g, PLAN_FLOAT, which, CLIP_GRID)
        fixed = {t: clipped[t] for t in gelus + probs}
        alphas = dict(half)
        best = probe(qdq(sm05, clipped, PLAN_FLOAT), which)
        for t in ln_outs:
            for al in (0.3, 0.4, 0.6, 0.7, 0.8):
                trial = {**alphas, t: al}
                m2, a2, _ = smooth(model, trial)
                c = probe(qdq(m2, {**a2, **fixed}, PLAN_FLOAT), which)
                if c > best:
                    best, alphas = c, trial
        m, a0, _ = smooth(model, alphas)
        log(f"GELU MSE amax, clips on {which} probe, alpha per tensor on {which} probe, plan's float set",
            measure(qdq(m, {**a0, **fixed}, PLAN_FLOAT)), alphas={t: v for t, v in alphas.items() if v != 0.5}, clips=clips,
            probe_cosine=round(best, 5))
        log(f"GELU MSE amax, clips on {which} probe, alpha 0.5, plan's float set", measure(qdq(sm05, clipped, PLAN_FLOAT)))

if "greedy" in modes or "final" in modes:
    for which in args.final_probes.split(","):
        # The recipe: clips (fine grid) with every MatMul in int8, then each GELU output's amax on the probe, then the float set.
        a1, clips, _ = search_clips(sm05, mse_g, set(), which, CLIP_GRID)
        log(f"GELU MSE amax, fine clips on {which} probe, all int8", measure(qdq(sm05, a1)), clips=clips)
        ranked = sensitivity(sm05, a1, which)
        one = {n for _, n in ranked[:4]}
        log(f"GELU MSE amax, fine clips, one-at-a-time top 4 float ({which} probe)", measure(qdq(sm05, a1, one)), float=names(one),
            ranked=[[label[n], round(l, 5)] for l, n in ranked[:10]])
        a2, gch, _ = search_amax(sm05, a1, set(), which, gelus, GELU_GRID, samax05)
        log(f"GELU amax on {which} probe, fine clips, all int8", measure(qdq(sm05, a2)), clips=clips, gelu=gch)
        ranked = sensitivity(sm05, a2, which)
        one = {n for _, n in ranked[:4]}
        log(f"GELU amax on {which} probe, fine clips, one-at-a-time top 4 float", measure(qdq(sm05, a2, one)), float=names(one),
            ranked=[[label[n], round(l, 5)] for l, n in ranked[:10]], clips=clips, gelu=gch)
        if "greedy" in modes:
            fl, trace = greedy_float(sm05, a2, which, pool=[n for _, n in ranked[:16]])
            log(f"GELU amax on {which} probe, fine clips, greedy joint float 4", measure(qdq(sm05, a2, fl)), float=names(fl), trace=trace)

results["_settings"] = settings()
with open(args.out, "w") as f:
    json.dump({"results": results, "settings": settings()}, f, indent=2)
print(f"wrote {args.out}")
