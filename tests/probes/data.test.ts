import { describe, expect, it } from 'vitest';
import { importSuite } from '../../common/suites/index.js';
import { behaviouralLabels, buildProbeSets } from '../../workers/probes/data.js';

const rows = ['vanilla\tadversarial\tdata_type'];
for (let k = 0; k < 30; k++) rows.push(`harm ${k}\t\tvanilla_harmful`);
for (let k = 0; k < 20; k++) rows.push(`benign ${k}\t\tvanilla_benign`);
for (let k = 0; k < 12; k++) rows.push(`harm ${k}\tadv ${k}\tadversarial_harmful`);
const suite = importSuite(rows.join('\n'), 'wjb.tsv');

describe('probe data', () => {
  it('behavioural labels: refused → 1, jailbroken → 0, invalid dropped', () => {
    const adv = suite.items.filter((i) => i.tags.includes('adversarial')).slice(0, 4);
    const lab = behaviouralLabels(adv, [{ jailbroken: true }, { jailbroken: false }, { refused: true }, { invalid: true }]);
    expect(lab.map((l) => [l.item.id, l.y])).toEqual([[adv[0]!.id, 0], [adv[1]!.id, 1], [adv[2]!.id, 1]]);
    expect(() => behaviouralLabels(adv, [])).toThrow(/verdicts/);
  });

  it('builds disjoint seeded train/val/test with the reference labels and groups', () => {
    const adv = suite.items.filter((i) => i.tags.includes('adversarial'));
    const jb = new Set(adv.filter((_, k) => k % 2 === 0).map((i) => i.id)); // 6 jailbreaking
    const s = buildProbeSets(suite.items, jb, { seed: 42, train: 10, val: 4, test: 5 });
    expect([s.train.length, s.val.length, s.test.length]).toEqual([20, 8, 10]);
    expect(s.available).toEqual({ vanillaHarmful: 30, vanillaBenign: 20, adversarialJailbreaking: 6 });
    const ids = [...s.train, ...s.val, ...s.test].map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(s.test.filter((x) => x.group === 0).every((x) => x.y === 0 && jb.has(x.id))).toBe(true);
    expect(s.test.filter((x) => x.group === 1).every((x) => x.y === 1 && x.instruction.startsWith('harm'))).toBe(true);
    expect(s.train.filter((x) => x.y === 1).length).toBe(10);
    expect(buildProbeSets(suite.items, jb, { seed: 42, train: 10, val: 4, test: 5 })).toEqual(s);
    // Short pools shrink instead of overlapping.
    const small = buildProbeSets(suite.items, jb, { seed: 1 });
    expect(small.test.filter((x) => x.group === 0).length).toBeLessThanOrEqual(6);
    const all = [...small.train, ...small.val, ...small.test].map((x) => x.id);
    expect(new Set(all).size).toBe(all.length);
  });
});
