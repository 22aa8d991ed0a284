/**
 * Binary-classification metrics and seeded percentile-bootstrap intervals. Plain JS, deterministic.
 * Labels are 0/1; scores are any real numbers (higher = more likely class 1).
 */
import { mulberry32 } from '../../common/suites/ops.js';

export { mulberry32 };

export function accuracy(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLen(y, pred);
  if (y.length === 0) return NaN;
  let c = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === pred[i]) c++;
  return c / y.length;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(y: ArrayLike<number>, pred: ArrayLike<number>): Confusion {
  checkLen(y, pred);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) pred[i] === 1 ? c.tp++ : c.fn++;
    else pred[i] === 1 ? c.fp++ : c.tn++;
  }
  return c;
}

/** Mean of the per-class recalls; when one class is absent, the recall of the class present. */
export function balancedAccuracy(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  const { tp, fp, tn, fn } = confusion(y, pred);
  const r1 = tp + fn > 0 ? tp / (tp + fn) : NaN;
  const r0 = tn + fp > 0 ? tn / (tn + fp) : NaN;
  if (Number.isNaN(r1)) return r0;
  if (Number.isNaN(r0)) return r1;
  return (r0 + r1) / 2;
}

/** F1 of class 1; 0 when there are no true positives (sklearn's zero_division=0). */
export function f1(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  const { tp, fp, fn } = confusion(y, pred);
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * AUROC = P(score_pos > score_neg) + ½·P(equal), by the Mann–Whitney U statistic with mid-ranks for ties.
 * NaN when either class is absent.
 */
export function auroc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  checkLen(y, score);
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]! || a - b);
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const mid = (i + j) / 2 + 1; // 1-based mid-rank
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) {
        nPos++;
        rankSumPos += mid;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Accuracy within each group (groups in ascending order of their key). */
export function perGroupAccuracy(
  y: ArrayLike<number>,
  pred: ArrayLike<number>,
  groups: ArrayLike<number | string>,
): Record<string, { acc: number; n: number }> {
  checkLen(y, pred);
  checkLen(y, groups);
  const m = new Map<string, { c: number; n: number }>();
  for (let i = 0; i < y.length; i++) {
    const g = String(groups[i]);
    const e = m.get(g) ?? { c: 0, n: 0 };
    e.n++;
    if (y[i] === pred[i]) e.c++;
    m.set(g, e);
  }
  const out: Record<string, { acc: number; n: number }> = {};
  for (const g of [...m.keys()].sort()) out[g] = { acc: m.get(g)!.c / m.get(g)!.n, n: m.get(g)!.n };
  return out;
}

export interface Interval {
  /** The statistic on the full sample. */
  value: number;
  lo: number;
  hi: number;
  /** Resamples whose statistic was defined (not NaN). */
  valid: number;
}

export interface BootstrapOptions {
  seed: number;
  /** Number of resamples, default 1000. */
  resamples?: number;
  /** Two-sided level, default 0.95. */
  level?: number;
  /** Resample within each stratum (e.g. the label or the group) so every resample keeps their sizes. */
  strata?: ArrayLike<number | string>;
}

/**
 * Percentile bootstrap: resample indices with replacement (mulberry32(seed)), evaluate `stat` on each,
 * and take the (1−level)/2 and (1+level)/2 quantiles (linear interpolation, numpy's default) of the
 * defined values.
 */
export function bootstrapCI(n: number, stat: (idx: Int32Array) => number, opts: BootstrapOptions): Interval {
  const B = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const value = stat(all);
  const rnd = mulberry32(opts.seed);
  let strata: Int32Array[] = [all];
  if (opts.strata) {
    const m = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const k = String(opts.strata[i]);
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(i);
    }
    strata = [...m.keys()].sort().map((k) => Int32Array.from(m.get(k)!));
  }
  const vals: number[] = [];
  const idx = new Int32Array(n);
  for (let b = 0; b < B; b++) {
    let o = 0;
    for (const st of strata) for (let k = 0; k < st.length; k++) idx[o++] = st[Math.floor(rnd() * st.length)]!;
    const v = stat(idx);
    if (!Number.isNaN(v)) vals.push(v);
  }
  vals.sort((a, b) => a - b);
  return { value, lo: quantile(vals, (1 - level) / 2), hi: quantile(vals, (1 + level) / 2), valid: vals.length };
}

/** Linear-interpolation quantile of sorted values (numpy 'linear'); NaN for an empty list. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function pick<T extends ArrayLike<number>>(a: T, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

export interface MetricSet {
  n: number;
  accuracy: Interval;
  balancedAccuracy: Interval;
  auroc: Interval;
  f1: Interval;
  perGroup: Record<string, { acc: number; n: number; lo: number; hi: number }>;
}

/** Every metric with a bootstrap interval (resampling stratified by label × group). Predicted 1 when score > threshold (default 0). */
export function evaluateBinary(
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  opts: BootstrapOptions & { groups?: ArrayLike<number | string>; threshold?: number },
): MetricSet {
  const n = y.length;
  checkLen(y, score);
  const thr = opts.threshold ?? 0;
  const pred = Uint8Array.from({ length: n }, (_, i) => (score[i]! > thr ? 1 : 0));
  // Stratify by label (and group when given) so each resample keeps the class sizes and AUROC is defined.
  const strata =
    opts.strata ?? (opts.groups ? Array.from({ length: n }, (_, i) => `${y[i]}|${String(opts.groups![i])}`) : y);
  const base = { seed: opts.seed, resamples: opts.resamples, level: opts.level, strata };
  const yy = Float64Array.from(y as ArrayLike<number>);
  const pp = Float64Array.from(pred);
  const ss = Float64Array.from(score as ArrayLike<number>);
  const ci = (f: (a: Float64Array, b: Float64Array) => number, second: Float64Array) =>
    bootstrapCI(n, (idx) => f(pick(yy, idx), pick(second, idx)), base);
  const perGroup: MetricSet['perGroup'] = {};
  if (opts.groups) {
    const pg = perGroupAccuracy(y, pred, opts.groups);
    for (const [g, v] of Object.entries(pg)) {
      const members = Int32Array.from(
        Array.from({ length: n }, (_, i) => i).filter((i) => String(opts.groups![i]) === g),
      );
      const iv = bootstrapCI(members.length, (idx) => {
        let c = 0;
        for (let k = 0; k < idx.length; k++) if (yy[members[idx[k]!]!] === pp[members[idx[k]!]!]) c++;
        return c / idx.length;
      }, { seed: opts.seed, resamples: opts.resamples, level: opts.level });
      perGroup[g] = { acc: v.acc, n: v.n, lo: iv.lo, hi: iv.hi };
    }
  }
  return {
    n,
    accuracy: ci(accuracy, pp),
    balancedAccuracy: ci(balancedAccuracy, pp),
    auroc: ci(auroc, ss),
    f1: ci(f1, pp),
    perGroup,
  };
}

function checkLen(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new Error(`metric: length mismatch ${a.length} vs ${b.length}`);
}
