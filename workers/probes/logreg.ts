/**
 * L2-regularised logistic regression with an (unpenalised) bias, in plain Float64 JavaScript.
 *
 * Objective (s_i = sample weights, z_i = w·x_i + b, ℓ_i = log(1+e^{z_i}) − y_i z_i):
 *     L(w, b) = Σ_i s_i ℓ_i / Σ_i s_i  +  (λ/2)‖w‖²
 * Strictly convex in w for λ > 0. Minimised by a deterministic full-batch Newton–CG method (Hessian–vector
 * products, conjugate gradients to a tight tolerance, Armijo backtracking), so d_model-wide dense probes
 * cost O(n·d) per CG step and never form a d×d matrix. Same inputs → bit-identical outputs.
 */

export type Matrix = ReadonlyArray<ArrayLike<number>>;

export interface LogRegOptions {
  /** L2 strength λ (on w only). Default 1e-2. */
  l2?: number;
  /** 'balanced' → s_i = n / (2·n_{y_i}); an object gives the weight per class; default all 1. */
  classWeight?: 'balanced' | { 0: number; 1: number } | null;
  /** Stop when ‖∇L‖∞ ≤ tol. Default 1e-10. */
  tol?: number;
  maxIter?: number;
  /** Warm start (e.g. the solution for a neighbouring λ); default w = 0, b = weighted log-odds. */
  init?: { w: ArrayLike<number>; b: number };
}

export interface LogRegModel {
  w: Float64Array;
  b: number;
  /** Objective at the solution. */
  loss: number;
  /** ‖∇L‖∞ at the solution. */
  gradNorm: number;
  iterations: number;
  converged: boolean;
  l2: number;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z), stable. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Flattens rows into a row-major Float64Array and checks the shape. */
export function toDense(X: Matrix): { data: Float64Array; n: number; d: number } {
  const n = X.length;
  if (n === 0) throw new Error('logistic regression: no samples');
  const d = X[0]!.length;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = X[i]!;
    if (r.length !== d) throw new Error(`logistic regression: row ${i} has ${r.length} features, expected ${d}`);
    for (let j = 0; j < d; j++) {
      const v = r[j]!;
      if (!Number.isFinite(v)) throw new Error(`logistic regression: non-finite feature at row ${i}, column ${j}`);
      data[i * d + j] = v;
    }
  }
  return { data, n, d };
}

export function sampleWeights(y: ArrayLike<number>, classWeight: LogRegOptions['classWeight']): Float64Array {
  const n = y.length;
  const s = new Float64Array(n).fill(1);
  if (!classWeight) return s;
  let n1 = 0;
  for (let i = 0; i < n; i++) n1 += y[i]!;
  const n0 = n - n1;
  const w =
    classWeight === 'balanced'
      ? { 0: n0 > 0 ? n / (2 * n0) : 0, 1: n1 > 0 ? n / (2 * n1) : 0 }
      : classWeight;
  for (let i = 0; i < n; i++) s[i] = y[i] === 1 ? w[1] : w[0];
  return s;
}

interface Problem {
  X: Float64Array;
  n: number;
  d: number;
  y: Float64Array;
  s: Float64Array;
  S: number;
  l2: number;
}

/** Objective, and optionally the gradient (length d+1, bias last) and the curvature weights D_i. */
function evaluate(p: Problem, wb: Float64Array, grad?: Float64Array, D?: Float64Array): number {
  const { X, n, d, y, s, S, l2 } = p;
  const b = wb[d]!;
  let loss = 0;
  if (grad) grad.fill(0);
  for (let i = 0; i < n; i++) {
    let z = b;
    const o = i * d;
    for (let j = 0; j < d; j++) z += X[o + j]! * wb[j]!;
    loss += s[i]! * (softplus(z) - y[i]! * z);
    if (grad) {
      const pr = sigmoid(z);
      const r = (s[i]! * (pr - y[i]!)) / S;
      for (let j = 0; j < d; j++) grad[j]! += r * X[o + j]!;
      grad[d]! += r;
      if (D) D[i] = (s[i]! * pr * (1 - pr)) / S;
    }
  }
  let reg = 0;
  for (let j = 0; j < d; j++) reg += wb[j]! * wb[j]!;
  if (grad) for (let j = 0; j < d; j++) grad[j]! += l2 * wb[j]!;
  return loss / S + 0.5 * l2 * reg;
}

/** Hessian–vector product H·v with H = [XᵀDX + λI, XᵀD1; 1ᵀDX, 1ᵀD1]. */
function hessVec(p: Problem, D: Float64Array, v: Float64Array, out: Float64Array): void {
  const { X, n, d, l2 } = p;
  out.fill(0);
  const vb = v[d]!;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let xv = vb;
    for (let j = 0; j < d; j++) xv += X[o + j]! * v[j]!;
    const t = D[i]! * xv;
    if (t === 0) continue;
    for (let j = 0; j < d; j++) out[j]! += t * X[o + j]!;
    out[d]! += t;
  }
  for (let j = 0; j < d; j++) out[j]! += l2 * v[j]!;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Trains the model. y must be 0/1. */
export function trainLogReg(X: Matrix, y: ArrayLike<number>, opts: LogRegOptions = {}): LogRegModel {
  const { data, n, d } = toDense(X);
  if (y.length !== n) throw new Error(`logistic regression: ${n} rows but ${y.length} labels`);
  const yy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`logistic regression: label ${String(y[i])} at ${i} is not 0/1`);
    yy[i] = y[i]!;
  }
  const l2 = opts.l2 ?? 1e-2;
  if (!(l2 >= 0)) throw new Error('logistic regression: l2 must be ≥ 0');
  const s = sampleWeights(yy, opts.classWeight ?? null);
  let S = 0;
  for (let i = 0; i < n; i++) S += s[i]!;
  if (!(S > 0)) throw new Error('logistic regression: all sample weights are zero');
  const p: Problem = { X: data, n, d, y: yy, s, S, l2 };
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 200;

  const m = d + 1;
  const wb = new Float64Array(m);
  // Start the bias at the weighted log-odds (the exact optimum when w = 0).
  let sy = 0;
  for (let i = 0; i < n; i++) sy += s[i]! * yy[i]!;
  const prior = Math.min(Math.max(sy / S, 1e-12), 1 - 1e-12);
  wb[d] = Math.log(prior / (1 - prior));
  if (opts.init) {
    if (opts.init.w.length !== d) throw new Error(`logistic regression: init has ${opts.init.w.length} weights, expected ${d}`);
    for (let j = 0; j < d; j++) wb[j] = opts.init.w[j]!;
    wb[d] = opts.init.b;
  }

  const g = new Float64Array(m);
  const D = new Float64Array(n);
  const step = new Float64Array(m);
  const r = new Float64Array(m);
  const q = new Float64Array(m);
  const Hq = new Float64Array(m);
  const trial = new Float64Array(m);
  let loss = evaluate(p, wb, g, D);
  let iterations = 0;
  let converged = normInf(g) <= tol;
  while (!converged && iterations < maxIter) {
    iterations++;
    // CG on H·step = −g.
    step.fill(0);
    for (let j = 0; j < m; j++) r[j] = -g[j]!;
    q.set(r);
    let rr = dot(r, r);
    const rr0 = rr;
    // Inexact Newton forcing term η = min(0.1, √‖g‖): superlinear convergence near the optimum.
    const eta = Math.min(0.1, Math.sqrt(Math.sqrt(rr0)));
    const cgTol = eta * eta * rr0;
    for (let k = 0; k < 2 * m + 10 && rr > cgTol && rr > 1e-300; k++) {
      hessVec(p, D, q, Hq);
      const qHq = dot(q, Hq);
      if (!(qHq > 0)) break;
      const a = rr / qHq;
      for (let j = 0; j < m; j++) {
        step[j]! += a * q[j]!;
        r[j]! -= a * Hq[j]!;
      }
      const rrNew = dot(r, r);
      const beta = rrNew / rr;
      rr = rrNew;
      for (let j = 0; j < m; j++) q[j] = r[j]! + beta * q[j]!;
    }
    let slope = dot(g, step);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): fall back to steepest descent.
      for (let j = 0; j < m; j++) step[j] = -g[j]!;
      slope = -dot(g, g);
    }
    // Armijo backtracking.
    let t = 1;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < m; j++) trial[j] = wb[j]! + t * step[j]!;
      const f = evaluate(p, trial);
      if (f <= loss + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break;
    wb.set(trial);
    loss = evaluate(p, wb, g, D);
    converged = normInf(g) <= tol;
  }
  return {
    w: wb.slice(0, d),
    b: wb[d]!,
    loss,
    gradNorm: normInf(g),
    iterations,
    converged,
    l2,
  };
}

/** Objective and gradient at (w, b), for checks. Gradient is [∂w…, ∂b]. */
export function logRegObjective(
  X: Matrix,
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  b: number,
  opts: Pick<LogRegOptions, 'l2' | 'classWeight'> = {},
): { loss: number; grad: Float64Array } {
  const { data, n, d } = toDense(X);
  const yy = Float64Array.from(y as ArrayLike<number>);
  const s = sampleWeights(yy, opts.classWeight ?? null);
  let S = 0;
  for (let i = 0; i < n; i++) S += s[i]!;
  const p: Problem = { X: data, n, d, y: yy, s, S, l2: opts.l2 ?? 1e-2 };
  const wb = new Float64Array(d + 1);
  for (let j = 0; j < d; j++) wb[j] = w[j]!;
  wb[d] = b;
  const grad = new Float64Array(d + 1);
  const loss = evaluate(p, wb, grad);
  return { loss, grad };
}

/** Decision values z = w·x + b. */
export function decision(model: Pick<LogRegModel, 'w' | 'b'>, X: Matrix): Float64Array {
  const out = new Float64Array(X.length);
  const d = model.w.length;
  for (let i = 0; i < X.length; i++) {
    const r = X[i]!;
    if (r.length !== d) throw new Error(`decision: row ${i} has ${r.length} features, expected ${d}`);
    let z = model.b;
    for (let j = 0; j < d; j++) z += r[j]! * model.w[j]!;
    out[i] = z;
  }
  return out;
}

/** Probabilities σ(z). */
export function predictProba(model: Pick<LogRegModel, 'w' | 'b'>, X: Matrix): Float64Array {
  return decision(model, X).map(sigmoid);
}

/** Labels: 1 when z > 0 (the reference predicts with logit > 0). */
export function predict(model: Pick<LogRegModel, 'w' | 'b'>, X: Matrix): Uint8Array {
  const z = decision(model, X);
  return Uint8Array.from(z, (v) => (v > 0 ? 1 : 0));
}
