import { describe, expect, it } from 'vitest';
import { categorySets, jaccard, type RankedFeature } from '../../workers/categories/sets.js';

const f = (layer: number, index: number, score = 1): RankedFeature => ({ layer, index, score });

describe('common and specific feature sets', () => {
  const ranked = {
    weapons: [f(3, 7, 9), f(1, 2, 8), f(2, 5, 7), f(0, 1, 6), f(2, 9, 5)],
    fraud: [f(2, 5, 9), f(3, 7, 8), f(1, 4, 7), f(1, 2, 6), f(0, 8, 5)],
    malware: [f(1, 2, 9), f(3, 7, 8), f(2, 5, 7), f(3, 3, 6), f(0, 0, 5)],
  };

  it('common = intersection, ordered by mean rank', () => {
    const s = categorySets(ranked);
    expect(s.categories).toEqual(['fraud', 'malware', 'weapons']);
    // mean ranks: 3/7 → (1+1+0)/3, 1/2 → (3+0+1)/3, 2/5 → (0+2+2)/3
    expect(s.common.map((x) => `${x.layer}/${x.index}`)).toEqual(['3/7', '1/2', '2/5']);
    expect(s.common[0]!.score).toBeCloseTo((9 + 8 + 8) / 3, 10);
  });

  it('specific = K*(c) − common, truncated to |common| in ranking order, or kept whole', () => {
    const t = categorySets({ ...ranked, weapons: [...ranked.weapons, f(0, 2), f(0, 3)] });
    expect(t.specific.weapons!.map((x) => `${x.layer}/${x.index}`)).toEqual(['0/1', '2/9', '0/2']);
    expect(t.specificFullCount.weapons).toBe(4);
    const whole = categorySets({ ...ranked, weapons: [...ranked.weapons, f(0, 2), f(0, 3)] }, { truncate: false });
    expect(whole.specific.weapons!.map((x) => `${x.layer}/${x.index}`)).toEqual(['0/1', '2/9', '0/2', '0/3']);
    expect(t.specific.fraud!.map((x) => `${x.layer}/${x.index}`)).toEqual(['1/4', '0/8']);
  });

  it('Jaccard overlaps between categories', () => {
    const s = categorySets(ranked);
    expect(s.jaccard[0]![0]).toBe(1);
    // fraud vs malware: common 3 of 5+5 → 3/7
    expect(s.jaccard[0]![1]).toBeCloseTo(3 / 7, 12);
    expect(s.jaccard[1]![0]).toBeCloseTo(3 / 7, 12);
    expect(jaccard(new Set(['a']), new Set(['b']))).toBe(0);
  });

  it('no shared feature gives an empty common set and empty truncated specific sets', () => {
    const s = categorySets({ a: [f(0, 1)], b: [f(0, 2)] });
    expect(s.common).toEqual([]);
    expect(s.specific.a).toEqual([]);
    expect(s.specificFullCount.a).toBe(1);
  });
});
