import { describe, expect, it } from 'vitest';
import {
  categoryCounts,
  editItem,
  filterByCategory,
  filterByTags,
  importSuite,
  itemsInSplit,
  mulberry32,
  sampleItems,
  splitSuite,
  tagItems,
  toInstructionJson,
} from '../../common/suites/index.js';

const suite = importSuite(
  JSON.stringify(Array.from({ length: 50 }, (_, k) => ({ instruction: `prompt ${k}`, category: k % 5 === 0 ? null : `c${k % 2}` }))),
  'toy.json',
);

describe('suite operations', () => {
  it('PRNG is deterministic', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
  it('filters by category (null = uncategorised) and counts', () => {
    expect(categoryCounts(suite)).toEqual([
      { category: null, count: 10 },
      { category: 'c1', count: 20 },
      { category: 'c0', count: 20 },
    ]);
    expect(filterByCategory(suite, ['c1']).items.length).toBe(20);
    expect(filterByCategory(suite, [null, 'c0']).items.length).toBe(30);
  });
  it('split is deterministic, exact in size and seed-dependent', () => {
    const a = splitSuite(suite, { seed: 7 });
    const b = splitSuite(suite, { seed: 7 });
    const c = splitSuite(suite, { seed: 8 });
    expect(a).toEqual(b);
    expect(a.items.map((i) => i.split)).not.toEqual(c.items.map((i) => i.split));
    expect([itemsInSplit(a, 'train').length, itemsInSplit(a, 'val').length, itemsInSplit(a, 'test').length]).toEqual([30, 10, 10]);
    expect(a.items.map((i) => i.id)).toEqual(suite.items.map((i) => i.id));
    // Golden: the first ten assignments for seed 7 never change.
    expect(a.items.slice(0, 10).map((i) => i.split![0]).join('')).toMatchInlineSnapshot(`"ttttttvvtv"`);
  });
  it('stratified split keeps proportions per category', () => {
    const s = splitSuite(suite, { seed: 1, fractions: { train: 0.5, val: 0, test: 0.5 }, stratifyByCategory: true });
    for (const cat of [null, 'c0', 'c1']) {
      const items = s.items.filter((i) => i.category === cat);
      expect(items.filter((i) => i.split === 'train').length).toBe(items.length / 2);
    }
  });
  it('tags add/remove/set on a selection; filter by tags', () => {
    let s = tagItems(suite, ['harmful']);
    s = tagItems(s, ['adversarial'], { select: ['toy-1', 'toy-2'] });
    expect(filterByTags(s, ['harmful', 'adversarial']).items.map((i) => i.id)).toEqual(['toy-1', 'toy-2']);
    s = tagItems(s, ['harmful'], { mode: 'remove', select: (it) => it.category === null });
    expect(filterByTags(s, ['harmful']).items.length).toBe(40);
    s = tagItems(s, ['x'], { mode: 'set', select: ['toy-1'] });
    expect(s.items[1]!.tags).toEqual(['x']);
  });
  it('edit, sample and export to instruction JSON', () => {
    const e = editItem(suite, 'toy-3', { instruction: 'edited', category: 'z' });
    expect(e.items[3]).toMatchObject({ instruction: 'edited', category: 'z' });
    expect(() => editItem(suite, 'nope', {})).toThrow(/no item/);
    const smp = sampleItems(suite, 5, 3);
    expect(smp.items.length).toBe(5);
    expect(sampleItems(suite, 5, 3)).toEqual(smp);
    const back = importSuite(toInstructionJson(suite), 'toy.json');
    expect(back).toEqual(suite);
  });
});
