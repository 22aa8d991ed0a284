import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetsDir } from '../helpers/fixtures.js';
import { categoryCounts, importSuite, PromptSuiteSchema } from '../../common/suites/index.js';

const DS = datasetsDir;
const load = (rel: string) => {
  const p = path.join(DS, rel);
  return importSuite(readFileSync(p, 'utf8'), path.basename(p));
};

describe('real dataset files (counts from assets/suites/DATASETS.md)', () => {
  const processed: [string, number][] = [
    ['advbench', 520],
    ['harmbench_test', 159],
    ['harmbench_val', 41],
    ['jailbreakbench', 100],
    ['malicious_instruct', 100],
    ['strongreject', 313],
    ['tdc2023', 100],
    ['alpaca', 31323],
  ];
  for (const [name, n] of processed) {
    it(`processed/${name}.json has ${n} items equal to JSON.parse`, () => {
      const file = path.join(DS, 'refusal_direction/processed', `${name}.json`);
      const text = readFileSync(file, 'utf8');
      const s = importSuite(text, `${name}.json`, { tags: name === 'alpaca' ? ['harmless'] : ['harmful'] });
      expect(s.items.length).toBe(n);
      const ref = JSON.parse(text) as { instruction: string; category: string | null }[];
      expect(s.items.map((i) => i.instruction)).toEqual(ref.map((r) => r.instruction));
      expect(s.items.map((i) => i.category)).toEqual(ref.map((r) => r.category));
      expect(new Set(s.items.map((i) => i.id)).size).toBe(n);
      expect(s.items[0]!.tags).toEqual([name === 'alpaca' ? 'harmless' : 'harmful']);
      expect(PromptSuiteSchema.safeParse(s).success).toBe(true);
    });
  }
  const splits: [string, number][] = [
    ['harmful_train', 260],
    ['harmful_val', 39],
    ['harmful_test', 572],
    ['harmless_train', 18793],
    ['harmless_val', 6264],
    ['harmless_test', 6266],
  ];
  for (const [name, n] of splits) {
    it(`splits/${name}.json has ${n} items`, () => {
      expect(load(`refusal_direction/splits/${name}.json`).items.length).toBe(n);
    });
  }

  it('raw/advbench.csv: goal,target → 520 prompts equal to processed, target kept in meta', () => {
    const s = load('refusal_direction/raw/advbench.csv');
    expect(s.items.length).toBe(520);
    expect(s.source?.format).toBe('csv');
    const proc = load('refusal_direction/processed/advbench.json');
    expect(s.items.map((i) => i.instruction)).toEqual(proc.items.map((i) => i.instruction));
    expect(s.items[0]!.meta?.target).toMatch(/^Sure, here is a script/);
  });

  it('raw/harmbench_{test,val}.csv: 320 / 80 rows; standard minus copyright equals processed', () => {
    for (const [split, rows, processedN] of [['test', 320, 159], ['val', 80, 41]] as const) {
      const s = load(`refusal_direction/raw/harmbench_${split}.csv`);
      expect(s.items.length).toBe(rows);
      const std = s.items.filter((i) => i.meta?.FunctionalCategory === 'standard' && i.category !== 'copyright');
      const proc = load(`refusal_direction/processed/harmbench_${split}.json`);
      expect(std.length).toBe(processedN);
      expect(std.map((i) => i.instruction)).toEqual(proc.items.map((i) => i.instruction));
      expect(std.map((i) => i.category)).toEqual(proc.items.map((i) => i.category));
    }
  });

  it('raw/harmbench_test.csv keeps quoted newlines inside ContextString', () => {
    const s = load('refusal_direction/raw/harmbench_test.csv');
    const ctx = s.items.filter((i) => (i.meta?.ContextString ?? '').includes('\n'));
    expect(ctx.length).toBeGreaterThan(0);
    expect(s.items.every((i) => typeof i.meta?.BehaviorID === 'string')).toBe(true);
  });

  it('raw/jailbreakbench.csv: Goal (not Behavior) is the prompt, Category the category', () => {
    const s = load('refusal_direction/raw/jailbreakbench.csv');
    const proc = load('refusal_direction/processed/jailbreakbench.json');
    expect(s.items.length).toBe(100);
    expect(s.items.map((i) => i.instruction)).toEqual(proc.items.map((i) => i.instruction));
    expect(s.items.map((i) => i.category)).toEqual(proc.items.map((i) => i.category));
    expect(categoryCounts(s).every((c) => c.count === 10)).toBe(true);
    expect(categoryCounts(s).length).toBe(10);
  });

  it('raw/strongreject.csv: forbidden_prompt → 313', () => {
    const s = load('refusal_direction/raw/strongreject.csv');
    const proc = load('refusal_direction/processed/strongreject.json');
    expect(s.items.length).toBe(313);
    expect(s.items.map((i) => i.instruction)).toEqual(proc.items.map((i) => i.instruction));
    expect(s.items.map((i) => i.category)).toEqual(proc.items.map((i) => i.category));
  });

  it('raw/malicious_instruct.txt: one prompt a line → 100', () => {
    const s = load('refusal_direction/raw/malicious_instruct.txt');
    expect(s.items.length).toBe(100);
    expect(s.source?.format).toBe('txt');
    const proc = load('refusal_direction/processed/malicious_instruct.json');
    expect(s.items.map((i) => i.instruction)).toEqual(proc.items.map((i) => i.instruction));
  });

  it('raw/tdc2023_{dev,test}_behaviors.json: lists of strings → 50 + 50 = processed tdc2023', () => {
    const dev = load('refusal_direction/raw/tdc2023_dev_behaviors.json');
    const test = load('refusal_direction/raw/tdc2023_test_behaviors.json');
    expect(dev.items.length).toBe(50);
    expect(test.items.length).toBe(50);
    const proc = load('refusal_direction/processed/tdc2023.json');
    expect(new Set([...dev.items, ...test.items].map((i) => i.instruction))).toEqual(new Set(proc.items.map((i) => i.instruction)));
  });

  it('refusal_sae/advsuffixes.csv: 519 goals with their suffix lists', () => {
    const s = load('refusal_sae/advsuffixes.csv');
    expect(s.items.length).toBe(519);
    expect(s.items[0]!.meta?.response?.startsWith("['")).toBe(true);
  });
});
