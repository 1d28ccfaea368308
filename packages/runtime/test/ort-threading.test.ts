import { describe, expect, it } from "vitest";
import { FRONT_CORES, ortThreading } from "../src/index.js";

describe("ortThreading", () => {
  it("keeps ONNX Runtime's default threads without spinning on a 2-core host", () => {
    expect(ortThreading(2)).toEqual({ intraOpNumThreads: undefined, allowSpinning: false });
    expect(ortThreading(4)).toEqual({ intraOpNumThreads: undefined, allowSpinning: false });
  });

  it("on 16 cores, takes all but the front's cores for intra-op threads and lets them spin", () => {
    expect(ortThreading(16)).toEqual({ intraOpNumThreads: 16 - FRONT_CORES, allowSpinning: true });
  });

  it("with threads given, spins only where the front's cores stay free beside them", () => {
    expect(ortThreading(16, 16)).toEqual({ intraOpNumThreads: 16, allowSpinning: false });
    expect(ortThreading(16, 8)).toEqual({ intraOpNumThreads: 8, allowSpinning: true });
    expect(ortThreading(2, 2)).toEqual({ intraOpNumThreads: 2, allowSpinning: false });
    // One thread has no pool to keep awake (the shadow's session).
    expect(ortThreading(16, 1)).toEqual({ intraOpNumThreads: 1, allowSpinning: false });
  });
});
