import { describe, expect, it } from 'vitest';
import { bootstrapMeanCi, bootstrapRatioCi, cohenKappa, mcnemar, mcnemarExactP, quantile, wilson } from '../../workers/eval/stats.js';

describe('Wilson interval (hand-computed)', () => {
  it('8 of 10: centre 0.99207/1.38415, half-width 1.41601·√0.0256036', () => {
    // p̂ = .8, z² = 3.841459: centre = (.8 + .192073)/1.384146 = .716743; half = 1.416011·.160011 = .226577
    const [lo, hi] = wilson(8, 10);
    expect(lo).toBeCloseTo(0.490166, 5);
    expect(hi).toBeCloseTo(0.943319, 5);
  });
  it('0 of 10 and 10 of 10 are exact at the ends; n = 0 is [0, 1]', () => {
    const [lo, hi] = wilson(0, 10);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.277533, 5); // z²/n / (1 + z²/n) = .384146/1.384146
    expect(wilson(10, 10)[1]).toBe(1);
    expect(wilson(10, 10)[0]).toBeCloseTo(1 - 0.277533, 5);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });
  it('50 of 100: symmetric about .5', () => {
    const [lo, hi] = wilson(50, 100);
    expect(lo).toBeCloseTo(0.403832, 5);
    expect(hi).toBeCloseTo(0.596168, 5);
  });
});

describe('McNemar exact test (hand-computed binomial tails)', () => {
  it('discordant 1 vs 6: 2·(1 + 7)/2⁷ = 0.125', () => expect(mcnemarExactP(1, 6)).toBeCloseTo(0.125, 12));
  it('discordant 0 vs 5: 2/2⁵ = 0.0625', () => expect(mcnemarExactP(0, 5)).toBeCloseTo(0.0625, 12));
  it('discordant 3 vs 3 caps at 1; none discordant is 1', () => {
    expect(mcnemarExactP(3, 3)).toBe(1);
    expect(mcnemarExactP(0, 0)).toBe(1);
  });
  it('discordant 2 vs 10: 2·(1 + 12 + 66)/4096', () => expect(mcnemarExactP(2, 10)).toBeCloseTo((2 * 79) / 4096, 12));
  it('counts the pairs of verdicts', () => {
    const a = [1, 1, 1, 0, 0, 1, 0];
    const b = [1, 0, 0, 0, 1, 0, 0];
    const r = mcnemar(a, b);
    expect(r).toEqual({ n: 7, b10: 3, b01: 1, p: mcnemarExactP(3, 1) });
    expect(r.p).toBeCloseTo((2 * 5) / 16, 12);
    expect(() => mcnemar([1], [1, 0])).toThrow(/same prompts/);
  });
});

describe('Cohen κ', () => {
  it('confusion [[20,5],[10,15]]: p_o .7, p_e .5, κ .4', () => {
    const a = [...Array(25).fill(0), ...Array(25).fill(1)];
    const b = [...Array(20).fill(0), ...Array(5).fill(1), ...Array(10).fill(0), ...Array(15).fill(1)];
    const k = cohenKappa(a, b);
    expect(k.confusion).toEqual([[20, 5], [10, 15]]);
    expect(k.agreement).toBeCloseTo(0.7, 12);
    expect(k.kappa).toBeCloseTo(0.4, 12);
  });
  it('constant equal judges agree fully', () => expect(cohenKappa([1, 1], [1, 1]).kappa).toBe(1));
});

describe('bootstrap', () => {
  it('a constant sample has a point interval; seeded and reproducible', () => {
    expect(bootstrapMeanCi([2, 2, 2])).toEqual([2, 2]);
    const xs = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
    const a = bootstrapMeanCi(xs, { seed: 3 });
    expect(bootstrapMeanCi(xs, { seed: 3 })).toEqual(a);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(a[0]).toBeLessThan(mean);
    expect(a[1]).toBeGreaterThan(mean);
  });
  it('ratio of sums: tokens-weighted CE', () => {
    const [lo, hi] = bootstrapRatioCi([4, 4, 4], [2, 2, 2]);
    expect(lo).toBe(2);
    expect(hi).toBe(2);
  });
  it('quantile interpolates like numpy', () => expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5));
});
