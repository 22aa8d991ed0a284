import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { runPipelineFile } from '../../workers/refusal/project.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { ExperimentTableSchema } from '../../common/results/experiments.js';

const repo = path.resolve(__dirname, '../..');
const demo = path.join(repo, 'assets/demo');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-exp-demo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('run with evaluate + sweep on the bundled demo', () => {
  beforeAll(() => initBackend());
  it('writes experiments.json / .csv with every role, groups, McNemar and the suffix analysis', async () => {
    const cap = path.join(dir, 'cap.jsonl');
    fs.writeFileSync(cap, [JSON.stringify({ question: { stem: 'Which one is a fruit?', choices: [{ text: 'apple', label: 'A' }, { text: 'stone', label: 'B' }] }, answerKey: 'A' }), JSON.stringify({ question: 'What is 2 plus 2?', answer: '#### 4' })].join('\n'));
    const harmful = { path: path.join(demo, 'suites/demo-harmful.json'), split: 'test', limit: 12, seed: 1 };
    const pl = {
      kind: 'refusal-workbench/pipeline',
      schemaVersion: 1,
      model: path.join(demo, 'model'),
      saes: path.join(demo, 'saes'),
      suites: { harmful, harmless: { path: path.join(demo, 'suites/demo-harmless.json'), split: 'train', limit: 24, seed: 2 }, evalHarmless: { path: path.join(demo, 'suites/demo-harmless.json'), split: 'test', limit: 12, seed: 3 } },
      params: { maxNewTokens: 6, layer: 0, laBatchSize: 12, genBatchSize: 40, sideEffects: true, kStar: 5, steps: 2, graph: { enabled: false }, induceValues: [5], suffixGoals: 4, suffixesPerGoal: 2 },
      evaluate: [
        { suite: { seed: 1, limit: 12, split: 'test', path: path.join(demo, 'suites/demo-harmful.json') }, role: 'harmful' },
        { suite: { path: path.join(repo, 'assets/suites/refusal_direction/processed/jailbreakbench.json'), limit: 8 }, role: 'harmful' },
        { suite: { path: path.join(demo, 'suites/demo-adversarial.json'), split: 'test', limit: 40, seed: 4 }, role: 'adversarial', suffixAnalysis: true },
        { suite: { path: path.join(repo, 'assets/text/sample.txt'), limit: 4 }, role: 'text' },
        { suite: cap, role: 'capability' },
      ],
      sweep: { clampValue: [0, -3], kStar: [1, 5] },
    };
    const f = path.join(dir, 'pl.json');
    fs.writeFileSync(f, JSON.stringify(pl));
    const out = await runPipelineFile(f, path.join(dir, 'p'), quietCtx());
    const raw = JSON.parse(fs.readFileSync(path.join(out.runDir, 'experiments.json'), 'utf8'));
    const t = ExperimentTableSchema.parse(raw);
    expect(t.layer).toBe(0);
    const roles = new Set(t.rows.map((r) => r.role));
    expect([...roles].sort()).toEqual(['adversarial', 'capability', 'harmful', 'harmless', 'text']);
    // the run's own suite, written with other key order, reuses discovery: its rates at the run's setting are discovery's
    for (const [m, rate] of Object.entries(out.results.refusal_rate)) {
      const fixed = m === 'base' || m === 'as';
      const r = t.rows.find((x) => x.suite === 'demo-harmful:test' && x.method === m && x.group === null && x.kStar === (fixed ? null : 5) && x.clampValue === (fixed ? null : -3) && x.setKind === (fixed ? null : 'local'));
      expect(r?.rate, m).toBeCloseTo(rate!, 5);
    }
    expect(t.rows.some((r) => r.suite === 'jailbreakbench' && r.n === 8)).toBe(true);
    expect(t.rows.some((r) => r.role === 'adversarial' && r.group?.startsWith('wrapper:'))).toBe(true);
    expect(t.rows.some((r) => r.edit === 'set' && r.clampValue === 5)).toBe(true);
    expect(t.rows.filter((r) => r.role === 'text').every((r) => r.ce! > 0 && r.ceCi![0] <= r.ce! && r.ce! <= r.ceCi![1])).toBe(true);
    expect(t.mcnemar.length).toBeGreaterThan(0);
    expect(t.suffix[0].goals).toBeGreaterThan(0);
    if (t.suffix[0].jailbroken > 1) expect(t.suffix[0].refusalDropCi![0]).toBeLessThanOrEqual(t.suffix[0].refusalDrop!);
    const csv = fs.readFileSync(path.join(out.runDir, 'experiments.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(t.rows.length + 1);
    expect(JSON.parse(fs.readFileSync(path.join(out.runDir, 'manifest.json'), 'utf8')).outputs).toContain('experiments.csv');
  }, 240_000);
});
