import sys
sys.argv = ["x", "--out", "explore-base.json", "--modes", "none"]
import os
# The search script of this checkout (three folders up), run in this namespace.
__file__ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "benchmarks", "int8-w8a8-search.py")
sys.path.insert(0, os.path.dirname(__file__))
exec(open(__file__).read())
pv = {n for n in all_names if kinds[n] == "PV"}
ffn2 = {n for n in all_names if kinds[n] == "FFN2"}
others_pv = set(all_names) - pv
mse_g = mse_scales(samax05, fac05, gelus)
# PV alone: clip grid per layer on dev probe
a, chosen, best = search_clips(sm05, samax05, others_pv, "dev", CLIP_GRID)
log("PV only int8, clip grid dev", measure(qdq(sm05, a, others_pv)), clips=chosen)
for c in (1.0, 0.5, 0.25, 0.125):
    log(f"PV only int8, clip {c}", measure(qdq(sm05, with_clips(samax05, [c]*6), others_pv)))
# FFN2 alone with MSE gelu
log("FFN2 only int8, max", measure(qdq(sm05, samax05, set(all_names) - ffn2)))
log("FFN2 only int8, MSE gelu", measure(qdq(sm05, mse_g, set(all_names) - ffn2)))
# all but PV in int8, mse gelu
log("all but PV int8, MSE gelu", measure(qdq(sm05, mse_g, pv)))
