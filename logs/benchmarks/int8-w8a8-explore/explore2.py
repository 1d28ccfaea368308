import sys
sys.argv = ["x", "--out", "explore-base2.json", "--modes", "none"]
import os
# The search script of this checkout (three folders up), run in this namespace.
__file__ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "benchmarks", "int8-w8a8-search.py")
sys.path.insert(0, os.path.dirname(__file__))
exec(open(__file__).read())
mse_g = mse_scales(samax05, fac05, gelus)
W = "dev"
a1, clips, best = search_clips(sm05, mse_g, set(), W, CLIP_GRID)
log("MSE gelu, clip grid dev, all int8", measure(qdq(sm05, a1)), clips=clips, probe=best)
def search_tensor(m, base, floats, which, tensors, grid, ref):
    a = dict(base); best = probe(qdq(m, a, floats), which); chosen = []
    for t in tensors:
        b, pick = a[t], None
        for f in grid:
            c = probe(qdq(m, {**a, t: ref[t] * f}, floats), which)
            if c > best: best, pick = c, f
        if pick is not None: a[t] = ref[t] * pick
        chosen.append(pick)
    return a, chosen, best
GGRID = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0]
a2, gch, best = search_tensor(sm05, a1, set(), W, gelus, GGRID, samax05)
log("MSE gelu -> gelu amax by output cosine, clip grid dev, all int8", measure(qdq(sm05, a2)), gelu=gch, mse_fracs=[round(mse_g[g]/samax05[g],3) for g in gelus], probe=best)
ranked = sensitivity(sm05, a2, W)
print("ranked", [[label[n], round(l, 5)] for l, n in ranked[:14]], flush=True)
one = {n for _, n in ranked[:4]}
log("a2, one-at-a-time top4", measure(qdq(sm05, a2, one)), float=names(one))
fl, trace = greedy_float(sm05, a2, W, pool=[n for _, n in ranked[:16]])
log("a2, greedy top4", measure(qdq(sm05, a2, fl)), float=names(fl), trace=trace)
a3, clips3, best3 = search_clips(sm05, {**a2, **{p: amax[p] for p in probs}}, fl, W, CLIP_GRID)
log("a2, greedy top4, clips re-searched", measure(qdq(sm05, a3, fl)), float=names(fl), clips=clips3, probe=best3)
import pickle; pickle.dump({"a2": a2, "a3": a3, "fl": fl, "one": one, "ranked": ranked}, open("explore2.pkl", "wb"))
