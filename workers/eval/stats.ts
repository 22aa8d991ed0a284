/**
 * Statistics for the experiment tables: Wilson score intervals on rates, McNemar's exact (binomial) test for
 * two methods judged on the same prompts, percentile bootstrap intervals for means and ratios of sums, and
 * judge agreement (Cohen's κ with the 2×2 confusion matrix). Pure functions, no tensors.
 */
import { mulberry32 } from '../../common/suites/ops.js';

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for k successes in n trials:
 * centre (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²). n = 0 → [0, 1].
 */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (!Number.isFinite(n) || n <= 0) return [0, 1];
  if (k < 0 || k > n) throw new Error(`wilson: k = ${k} outside 0…${n}`);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // clamp rounding so the ends stay inside [0, 1] and exact at k = 0 / k = n
  return [k === 0 ? 0 : Math.max(0, centre - half), k === n ? 1 : Math.min(1, centre + half)];
}

export interface McNemar {
  /** Prompts where both verdicts exist. */
  n: number;
  /** a = 1, b = 0 */
  b10: number;
  /** a = 0, b = 1 */
  b01: number;
  /** Two-sided exact p: min(1, 2·P(X ≤ min(b10, b01))), X ~ Bin(b10 + b01, ½). */
  p: number;
}

/** log C(n, k) by summing logs (n is a prompt count, small). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Exact two-sided McNemar p-value from the discordant counts. */
export function mcnemarExactP(b10: number, b01: number): number {
  const m = b10 + b01;
  if (m === 0) return 1;
  const lo = Math.min(b10, b01);
  let tail = 0;
  for (let i = 0; i <= lo; i++) tail += Math.exp(logChoose(m, i) - m * Math.LN2);
  return Math.min(1, 2 * tail);
}

/** McNemar's exact test on paired 0/1 verdicts (same prompts, same order); NaN entries are skipped. */
export function mcnemar(a: readonly number[], b: readonly number[]): McNemar {
  if (a.length !== b.length) throw new Error(`mcnemar: ${a.length} vs ${b.length} verdicts (not the same prompts)`);
  let n = 0, b10 = 0, b01 = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) continue;
    n++;
    if (a[i] && !b[i]) b10++;
    else if (!a[i] && b[i]) b01++;
  }
  return { n, b10, b01, p: mcnemarExactP(b10, b01) };
}

/**
 * Percentile bootstrap interval of Σnum/Σden over items resampled with replacement (den = 1 for a plain
 * mean). Seeded, so a table is reproducible.
 */
export function bootstrapRatioCi(
  num: readonly number[],
  den: readonly number[] | null = null,
  opts: { reps?: number; seed?: number; level?: number } = {},
): [number, number] {
  const n = num.length;
  if (n === 0) return [NaN, NaN];
  const d = den ?? num.map(() => 1);
  if (d.length !== n) throw new Error('bootstrap: numerator and denominator lengths differ');
  const reps = opts.reps ?? 2000;
  const r = mulberry32(opts.seed ?? 42);
  const stats = new Float64Array(reps);
  for (let k = 0; k < reps; k++) {
    let s = 0, w = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(r() * n);
      s += num[j];
      w += d[j];
    }
    stats[k] = w ? s / w : NaN;
  }
  stats.sort();
  const alpha = (1 - (opts.level ?? 0.95)) / 2;
  return [quantile(stats, alpha), quantile(stats, 1 - alpha)];
}

export function bootstrapMeanCi(xs: readonly number[], opts: { reps?: number; seed?: number; level?: number } = {}): [number, number] {
  return bootstrapRatioCi(xs, null, opts);
}

/** Linear-interpolation quantile (numpy's default) of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (!n) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface Agreement {
  n: number;
  /** confusion[i][j]: judge A said i, judge B said j (0/1). */
  confusion: [[number, number], [number, number]];
  /** Observed agreement. */
  agreement: number;
  /** Cohen's κ = (p_o − p_e)/(1 − p_e); 1 when both judges are constant and equal. */
  kappa: number;
}

export function cohenKappa(a: readonly number[], b: readonly number[]): Agreement {
  if (a.length !== b.length) throw new Error(`kappa: ${a.length} vs ${b.length} verdicts`);
  const c: [[number, number], [number, number]] = [[0, 0], [0, 0]];
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) continue;
    c[a[i] ? 1 : 0][b[i] ? 1 : 0]++;
    n++;
  }
  if (!n) return { n, confusion: c, agreement: NaN, kappa: NaN };
  const po = (c[0][0] + c[1][1]) / n;
  const a1 = (c[1][0] + c[1][1]) / n, b1 = (c[0][1] + c[1][1]) / n;
  const pe = a1 * b1 + (1 - a1) * (1 - b1);
  const kappa = pe === 1 ? (po === 1 ? 1 : 0) : (po - pe) / (1 - pe);
  return { n, confusion: c, agreement: po, kappa };
}
