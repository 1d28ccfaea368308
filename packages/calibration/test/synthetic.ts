import { seededRandom } from "@trtforge/articles";

/** Seeded random data for histogram tests (the articles package's mulberry32 + Box-Muller), the same on every machine. */
export const random = seededRandom;

export function gaussian(n: number, seed: number, sigma = 1): Float32Array {
  const next = random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const theta = 2 * Math.PI * next();
    out[i] = sigma * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = sigma * r * Math.sin(theta);
  }
  return out;
}

export function uniform(n: number, seed: number, low: number, high: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: n }, () => low + (high - low) * next());
}

export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
