/** Per-feature standardisation fitted on training data only. */
import type { Matrix } from './logreg.js';

export interface Standardizer {
  mean: Float64Array;
  /** Population std (ddof 0); features with zero spread get 1 so they map to 0. */
  std: Float64Array;
}

export function fitStandardizer(X: Matrix): Standardizer {
  const n = X.length;
  if (n === 0) throw new Error('fitStandardizer: no rows');
  const d = X[0]!.length;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of X) for (let j = 0; j < d; j++) mean[j]! += r[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (const r of X) for (let j = 0; j < d; j++) std[j]! += (r[j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j]! / n);
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j]!)) ? s : 1;
  }
  return { mean, std };
}

export function applyStandardizer(st: Standardizer, X: Matrix): Float64Array[] {
  const d = st.mean.length;
  return X.map((r, i) => {
    if (r.length !== d) throw new Error(`standardize: row ${i} has ${r.length} features, expected ${d}`);
    const o = new Float64Array(d);
    for (let j = 0; j < d; j++) o[j] = (r[j]! - st.mean[j]!) / st.std[j]!;
    return o;
  });
}
