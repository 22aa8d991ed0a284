import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/suites/ops.js';
import { logRegObjective, predict, sigmoid, trainLogReg } from '../../workers/probes/logreg.js';
import { applyStandardizer, fitStandardizer } from '../../workers/probes/standardize.js';

/** Root of a monotone function by bisection (to machine precision). */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (Math.sign(f(mid)) === Math.sign(f(lo))) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/**
 * Independent reference: plain Newton with the explicit (d+1)×(d+1) Hessian solved by Gaussian elimination
 * with partial pivoting, 100 iterations from zero (no line search needed for these well-conditioned cases).
 */
function referenceSolve(X: number[][], y: number[], l2: number, s: number[]): { w: number[]; b: number; loss: number } {
  const n = X.length;
  const d = X[0]!.length;
  const S = s.reduce((a, b) => a + b, 0);
  let th = new Array<number>(d + 1).fill(0);
  const lossAt = (t: number[]) => {
    let L = 0;
    for (let i = 0; i < n; i++) {
      const z = X[i]!.reduce((a, x, j) => a + x * t[j]!, t[d]!);
      L += s[i]! * (Math.log(1 + Math.exp(z)) - y[i]! * z);
    }
    return L / S + 0.5 * l2 * t.slice(0, d).reduce((a, v) => a + v * v, 0);
  };
  for (let it = 0; it < 100; it++) {
    const g = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const xi = [...X[i]!, 1];
      const z = xi.reduce((a, x, j) => a + x * th[j]!, 0);
      const p = 1 / (1 + Math.exp(-z));
      for (let a = 0; a <= d; a++) {
        g[a]! += (s[i]! * (p - y[i]!) * xi[a]!) / S;
        for (let b = 0; b <= d; b++) H[a]![b]! += (s[i]! * p * (1 - p) * xi[a]! * xi[b]!) / S;
      }
    }
    for (let a = 0; a < d; a++) {
      g[a]! += l2 * th[a]!;
      H[a]![a]! += l2;
    }
    // Solve H δ = g.
    const M = H.map((r, k) => [...r, g[k]!]);
    for (let c = 0; c <= d; c++) {
      let piv = c;
      for (let r = c + 1; r <= d; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
      [M[c], M[piv]] = [M[piv]!, M[c]!];
      for (let r = c + 1; r <= d; r++) {
        const f = M[r]![c]! / M[c]![c]!;
        for (let k = c; k <= d + 1; k++) M[r]![k]! -= f * M[c]![k]!;
      }
    }
    const delta = new Array<number>(d + 1).fill(0);
    for (let r = d; r >= 0; r--) {
      let v = M[r]![d + 1]!;
      for (let k = r + 1; k <= d; k++) v -= M[r]![k]! * delta[k]!;
      delta[r] = v / M[r]![r]!;
    }
    th = th.map((v, k) => v - delta[k]!);
  }
  return { w: th.slice(0, d), b: th[d]!, loss: lossAt(th) };
}

function noisyData(seed: number, n: number, d: number) {
  const rnd = mulberry32(seed);
  const wTrue = Array.from({ length: d }, () => gaussian(rnd));
  const X = Array.from({ length: n }, () => Array.from({ length: d }, () => gaussian(rnd)));
  const y = X.map((x) => (rnd() < sigmoid(0.3 + x.reduce((a, v, j) => a + v * wTrue[j]!, 0)) ? 1 : 0));
  return { X, y };
}

describe('L2 logistic regression', () => {
  it('separable 1-D case matches the hand solution σ(−w) = λw, b = 0', () => {
    const l2 = 0.1;
    const m = trainLogReg([[1], [-1]], [1, 0], { l2 });
    const w = bisect((w) => sigmoid(-w) - l2 * w, 0, 100);
    const loss = Math.log1p(Math.exp(-w)) + 0.5 * l2 * w * w;
    expect(m.converged).toBe(true);
    expect(Math.abs(m.w[0]! - w)).toBeLessThan(1e-4);
    expect(Math.abs(m.b)).toBeLessThan(1e-4);
    expect(Math.abs(m.loss - loss)).toBeLessThan(1e-4);
    // In fact far tighter.
    expect(Math.abs(m.w[0]! - w)).toBeLessThan(1e-9);
    expect(w).toBeCloseTo(1.6335, 3);
  });

  it('separable 2-D symmetric case: w1 = w2 with σ(−w) = 2λw, b = 0', () => {
    const l2 = 0.05;
    const m = trainLogReg([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 0, 0], { l2 });
    const w = bisect((w) => sigmoid(-w) - 2 * l2 * w, 0, 100);
    const loss = Math.log1p(Math.exp(-w)) + l2 * w * w;
    expect(Math.abs(m.w[0]! - w)).toBeLessThan(1e-4);
    expect(Math.abs(m.w[1]! - w)).toBeLessThan(1e-4);
    expect(Math.abs(m.b)).toBeLessThan(1e-4);
    expect(Math.abs(m.loss - loss)).toBeLessThan(1e-4);
    expect(Array.from(predict(m, [[2, 0], [-3, 1]]))).toEqual([1, 0]);
  });

  it('noisy case: gradient ≈ 0 at the solution and equal to an independent Newton reference', () => {
    const { X, y } = noisyData(11, 80, 4);
    const l2 = 0.02;
    const m = trainLogReg(X, y, { l2 });
    expect(m.converged).toBe(true);
    const { grad, loss } = logRegObjective(X, y, m.w, m.b, { l2 });
    expect(Math.max(...Array.from(grad, Math.abs))).toBeLessThan(1e-8);
    expect(loss).toBe(m.loss);
    const ref = referenceSolve(X, y, l2, y.map(() => 1));
    m.w.forEach((v, j) => expect(Math.abs(v - ref.w[j]!)).toBeLessThan(1e-4));
    expect(Math.abs(m.b - ref.b)).toBeLessThan(1e-4);
    expect(Math.abs(m.loss - ref.loss)).toBeLessThan(1e-4);
    m.w.forEach((v, j) => expect(Math.abs(v - ref.w[j]!)).toBeLessThan(1e-8));
  });

  it('class weights: balanced weights match the weighted reference', () => {
    const { X, y } = noisyData(5, 60, 3);
    // Make it imbalanced.
    const keep = y.map((v, i) => v === 1 || i % 3 === 0);
    const Xi = X.filter((_, i) => keep[i]);
    const yi = y.filter((_, i) => keep[i]);
    const n1 = yi.reduce<number>((a, b) => a + b, 0);
    const n0 = yi.length - n1;
    const s = yi.map((v) => (v === 1 ? yi.length / (2 * n1) : yi.length / (2 * n0)));
    const m = trainLogReg(Xi, yi, { l2: 0.03, classWeight: 'balanced' });
    const ref = referenceSolve(Xi, yi, 0.03, s);
    m.w.forEach((v, j) => expect(Math.abs(v - ref.w[j]!)).toBeLessThan(1e-6));
    expect(Math.abs(m.b - ref.b)).toBeLessThan(1e-6);
    expect(Math.abs(m.loss - ref.loss)).toBeLessThan(1e-9);
    const unweighted = trainLogReg(Xi, yi, { l2: 0.03 });
    expect(Math.abs(unweighted.b - m.b)).toBeGreaterThan(1e-3);
  });

  it('wide case (d > n) converges by Newton–CG and is deterministic', () => {
    const { X, y } = noisyData(3, 30, 60);
    const a = trainLogReg(X, y, { l2: 0.1 });
    const b = trainLogReg(X, y, { l2: 0.1 });
    expect(a.converged).toBe(true);
    expect(a.gradNorm).toBeLessThan(1e-10);
    expect(Array.from(a.w)).toEqual(Array.from(b.w));
    expect(a.b).toBe(b.b);
  });

  it('rejects bad input', () => {
    expect(() => trainLogReg([[1], [2]], [1, 2])).toThrow(/not 0\/1/);
    expect(() => trainLogReg([[1], [2, 3]], [1, 0])).toThrow(/row 1/);
    expect(() => trainLogReg([[NaN]], [1])).toThrow(/non-finite/);
    expect(() => trainLogReg([[1]], [1, 0])).toThrow(/labels/);
  });
});

describe('standardisation', () => {
  it('train statistics, ddof 0, constant features map to 0', () => {
    const st = fitStandardizer([[1, 5], [3, 5]]);
    expect(Array.from(st.mean)).toEqual([2, 5]);
    expect(Array.from(st.std)).toEqual([1, 1]);
    expect(applyStandardizer(st, [[1, 5], [5, 7]]).map((r) => Array.from(r))).toEqual([[-1, 0], [3, 2]]);
  });
});
