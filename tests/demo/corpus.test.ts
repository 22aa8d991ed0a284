import { describe, expect, it } from 'vitest';
import { generateCorpus, isTrainingItem, HARMFUL, FAMILIES, JAILBREAK_FAMILIES, expectOf, allTexts } from '../../workers/demo/corpus.js';
import { buildTokenizerFiles, makeDemoTokenizer, BOS_ID } from '../../workers/demo/tokenizer.js';
import { PromptSuiteSchema } from '../../common/suites/index.js';

describe('demo corpus', () => {
  const c = generateCorpus(1234);

  it('is deterministic in its seed', () => {
    expect(JSON.stringify(generateCorpus(1234))).toBe(JSON.stringify(c));
    expect(JSON.stringify(generateCorpus(99))).not.toBe(JSON.stringify(c));
  });

  it('writes prompt suites of the agreed shape with train/val/test splits', () => {
    expect(c.suites.map((s) => s.name)).toEqual(['demo-harmful', 'demo-harmless', 'demo-adversarial', 'demo-benign-adversarial']);
    for (const s of c.suites) {
      expect(() => PromptSuiteSchema.parse(s)).not.toThrow();
      expect(s.kind).toBe('prompt-suite');
      expect(s.schemaVersion).toBe(1);
      const ids = new Set(s.items.map((i) => i.id));
      expect(ids.size).toBe(s.items.length);
      for (const split of ['train', 'val', 'test']) expect(s.items.some((i) => i.split === split)).toBe(true);
      for (const it of s.items) {
        expect(typeof it.instruction).toBe('string');
        expect(typeof it.category).toBe('string');
        expect(Array.isArray(it.tags)).toBe(true);
        expectOf(it);
      }
    }
  });

  it('has ≥ 5 harmful categories, 6 wrapper families and out-of-distribution test items', () => {
    expect(HARMFUL.length).toBeGreaterThanOrEqual(5);
    const harmful = c.suites[0]!;
    expect(new Set(harmful.items.map((i) => i.category)).size).toBeGreaterThanOrEqual(5);
    const adv = c.suites[2]!;
    for (const f of FAMILIES) expect(adv.items.some((i) => i.tags.includes(`wrapper:${f}`) && i.split === 'test')).toBe(true);
    const test = adv.items.filter((i) => i.split === 'test');
    expect(test.some((i) => i.tags.includes('ood-template'))).toBe(true);
    expect(harmful.items.filter((i) => i.split === 'test').every((i) => i.tags.some((t) => t.startsWith('ood-')))).toBe(true);
    // every rewrite is paired with its vanilla request; jailbreak families expect compliance, the others refusal
    const byId = new Map(adv.items.map((i) => [i.id, i]));
    for (const it of adv.items.filter((i) => i.tags.includes('vanilla'))) expect(expectOf(it)).toBe('refuse');
    for (const it of adv.items.filter((i) => i.tags.includes('adversarial'))) expect(byId.get(it.pair!)?.tags).toContain('vanilla');
    for (const it of adv.items.filter((i) => i.tags.includes('adversarial'))) expect(expectOf(it)).toBe(JAILBREAK_FAMILIES.some((f) => it.tags.includes(`wrapper:${f}`)) ? 'jailbroken' : 'refuse');
  });

  it('keeps test prompts out of training', () => {
    for (const s of c.suites) {
      // vanilla pairs are evaluation-only (never trained on), so only trained items count
      const train = new Set(s.items.filter((i) => isTrainingItem(i)).map((i) => i.instruction));
      for (const it of s.items.filter((i) => i.split !== 'train' && !i.tags.includes('vanilla'))) expect(train.has(it.instruction)).toBe(false);
    }
  });

  it('tokenizes every prompt without <unk> and with exactly one BOS', () => {
    const f = buildTokenizerFiles(allTexts(c));
    const tok = makeDemoTokenizer(f.tokenizerJson, f.tokenizerConfig);
    for (const s of c.suites) for (const it of s.items.slice(0, 50)) {
      const ids = tok.promptIds(it.instruction);
      expect(ids.filter((x) => x === BOS_ID)).toHaveLength(1);
      expect(ids).not.toContain(3);
    }
  });
});
