import { describe, expect, it } from 'vitest';
import {
  accuracy,
  auroc,
  balancedAccuracy,
  bootstrapCI,
  evaluateBinary,
  f1,
  perGroupAccuracy,
  quantile,
} from '../../workers/probes/metrics.js';

describe('metrics on fixed data', () => {
  it('AUROC: the sklearn example and ties (mid-ranks)', () => {
    expect(auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(auroc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.9])).toBeCloseTo(0.75, 12);
    expect(auroc([0, 1, 0, 1], [1, 1, 1, 1])).toBe(0.5);
    expect(auroc([1, 1, 0, 0], [3, 4, 1, 2])).toBe(1);
    expect(auroc([1, 1, 0, 0], [1, 2, 3, 4])).toBe(0);
    expect(auroc([1, 1], [1, 2])).toBeNaN();
    // Brute force over all pairs on a tie-heavy set.
    const y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0];
    const s = [2, 2, 3, 1, 1, 3, 2, 0, 2, 2];
    let num = 0;
    let den = 0;
    y.forEach((a, i) => y.forEach((b, j) => {
      if (a === 1 && b === 0) {
        den++;
        num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }));
    expect(auroc(y, s)).toBeCloseTo(num / den, 12);
  });

  it('accuracy, balanced accuracy, F1 and per-group accuracy', () => {
    const y = [1, 1, 1, 1, 0, 0];
    const p = [1, 1, 0, 0, 0, 1];
    expect(accuracy(y, p)).toBeCloseTo(3 / 6, 12);
    expect(balancedAccuracy(y, p)).toBeCloseTo((2 / 4 + 1 / 2) / 2, 12);
    expect(f1(y, p)).toBeCloseTo((2 * 2) / (2 * 2 + 1 + 2), 12);
    expect(f1([0, 0], [0, 0])).toBe(0);
    expect(perGroupAccuracy(y, p, [0, 1, 0, 1, 0, 1])).toEqual({ '0': { acc: 2 / 3, n: 3 }, '1': { acc: 1 / 3, n: 3 } });
    expect(balancedAccuracy([1, 1], [1, 0])).toBe(0.5);
  });

  it('quantile is numpy-linear', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.025)).toBeCloseTo(0.25, 12);
  });

  it('bootstrap is seeded, deterministic, brackets the estimate, and degenerate data gives a point', () => {
    const y = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0];
    const p = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0];
    const stat = (idx: Int32Array) => accuracy(Array.from(idx, (i) => y[i]!), Array.from(idx, (i) => p[i]!));
    const a = bootstrapCI(y.length, stat, { seed: 42, resamples: 2000 });
    const b = bootstrapCI(y.length, stat, { seed: 42, resamples: 2000 });
    expect(a).toEqual(b);
    expect(a.value).toBe(0.8);
    expect(a.lo).toBeLessThan(0.8);
    expect(a.hi).toBeGreaterThan(0.8);
    expect(a.valid).toBe(2000);
    // Normal approximation: 0.8 ± 1.96·√(0.16/20) ≈ [0.62, 0.98]; the percentile interval is close.
    expect(a.lo).toBeGreaterThan(0.55);
    expect(a.hi).toBeLessThanOrEqual(1);
    expect([a.lo, a.hi]).toMatchInlineSnapshot(`
      [
        0.6,
        0.95,
      ]
    `);
    const c = bootstrapCI(y.length, stat, { seed: 43, resamples: 2000 });
    expect([c.lo, c.hi]).not.toEqual([Number.NaN, Number.NaN]);
    const allRight = bootstrapCI(10, () => 1, { seed: 1, resamples: 50 });
    expect([allRight.lo, allRight.hi]).toEqual([1, 1]);
  });

  it('evaluateBinary: metrics with intervals, AUROC resamples stratified so never undefined', () => {
    const y = [1, 1, 1, 0, 0, 0, 1, 0];
    const score = [2, 1, -1, -2, 0.5, -1, 3, -3];
    const m = evaluateBinary(y, score, { seed: 7, resamples: 500, groups: [1, 1, 1, 1, 0, 0, 0, 0] });
    expect(m.accuracy.value).toBeCloseTo(6 / 8, 12);
    expect(m.auroc.value).toBeCloseTo(auroc(y, score), 12);
    expect(m.auroc.valid).toBe(500);
    expect(m.perGroup['0']!.acc).toBeCloseTo(3 / 4, 12);
    expect(m.perGroup['1']!.acc).toBeCloseTo(3 / 4, 12);
    expect(m.accuracy.lo).toBeLessThanOrEqual(m.accuracy.value);
    expect(m.accuracy.hi).toBeGreaterThanOrEqual(m.accuracy.value);
  });
});
