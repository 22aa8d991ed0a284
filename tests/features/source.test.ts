/** Where the playground / feature / preflight steps take model, SAEs, suites and the refusal direction from. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoPipeline } from '../../workers/refusal/project.js';
import { discoveryRuns, displayTokens, disposeLoaded, resolveSource, samplePrompts } from '../../workers/features/source.js';
import { initDemoBackend } from '../../workers/demo/backend.js';
import { detail } from '../../main/jobs/builtin/features.js';
import { playground } from '../../main/jobs/builtin/playground.js';
import type { StepContext } from '../../common/schemas/job.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = path.resolve(import.meta.dirname, '..', '..', 'assets', 'demo');

function write(file: string, v: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(v));
}

describe('displayTokens', () => {
  it('turns SentencePiece and byte-level markers back into spaces and newlines', () => {
    const tok = { tokens: (ids: number[]) => ids.map((i) => ['▁How', 'ĠThe', 'Ċ', 'plain', '<bos>'][i]!) };
    expect(displayTokens(tok, [0, 1, 2, 3, 4])).toEqual([' How', ' The', '\n', 'plain', '<bos>']);
  });
});

describe.skipIf(skipWithoutDemo(DEMO))('resolveSource', () => {
  let project = '';
  beforeAll(() => {
    process.env.RW_DEMO_DIR = DEMO;
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-src-'));
  });
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('falls back to the bundled demo with its direction (ablated at resid_pre/attn/mlp)', () => {
    const s = resolveSource(project);
    expect(s.kind).toBe('demo');
    expect(s.modelDir).toBe(path.join(DEMO, 'model'));
    expect(s.direction?.sites).toBe('arditi');
    expect(s.direction?.layer).toBe(1);
    expect(s.direction?.vector.length).toBe(64);
    expect(s.suites.map((x) => x.name).sort()).toEqual(['demo-adversarial', 'demo-benign-adversarial', 'demo-harmful', 'demo-harmless']);
    const p = samplePrompts(s.suites, 3, 1);
    expect(p).toHaveLength(12);
    expect(samplePrompts(s.suites, 3, 1)).toEqual(p); // seeded
  });

  it('uses a project pipeline.json, with the demo direction when its model is the demo model', () => {
    write(path.join(project, 'pipeline.json'), demoPipeline(DEMO));
    const s = resolveSource(project);
    expect(s.kind).toBe('pipeline');
    expect(s.direction?.from).toContain('refusal_direction.json');
    fs.rmSync(path.join(project, 'pipeline.json'));
  });

  it('prefers the newest succeeded discovery run: its model, SAEs, directions[layer], sites and graph', () => {
    const mk = (id: string, finishedAt: string, status: string, fill: number) => {
      const dir = path.join(project, 'runs', id);
      write(path.join(dir, 'manifest.json'), {
        id,
        step: 'refusal.discover',
        status,
        finishedAt,
        params: { pipeline: demoPipeline(DEMO), resolved: { ablationSites: 'resid_post' } },
        inputs: [{ path: path.join(project, 'demo-pipeline.json') }],
      });
      write(path.join(dir, 'steps', 'direction.json'), { directions: [new Array(64).fill(0), new Array(64).fill(fill)] });
      write(path.join(dir, 'steps', 'layer.json'), { layer: 1 });
      write(path.join(dir, 'graph.json'), {
        kind: 'refusal-workbench/feature-graph',
        schemaVersion: 2,
        nodes: [{ id: 'L1/5', layer: 1, index: 5, attribution: 0.25, topPositions: [], neuronpediaId: null }],
        edges: [],
        params: { priorLayers: 2, stopGradient: 'features', clampValue: -3, samples: 16 },
      });
    };
    mk('discover-old', '2026-01-01T00:00:00Z', 'succeeded', 1);
    mk('discover-new', '2026-02-01T00:00:00Z', 'succeeded', 2);
    mk('discover-failed', '2026-03-01T00:00:00Z', 'failed', 3);
    expect(discoveryRuns(project).map((r) => r.runId)).toEqual(['discover-new', 'discover-old']);
    const s = resolveSource(project);
    expect(s.kind).toBe('discovery');
    expect(s.runId).toBe('discover-new');
    expect(s.direction?.sites).toBe('resid_post');
    expect(s.direction?.layer).toBe(1);
    expect(Array.from(s.direction!.vector.slice(0, 3))).toEqual([2, 2, 2]);
    expect(s.graphFile).toBe(path.join(project, 'runs', 'discover-new', 'graph.json'));
    expect(s.modelDir).toBe(path.join(DEMO, 'model'));
    // demo: true skips the project's runs
    expect(resolveSource(project, { demo: true }).kind).toBe('demo');
  });

  it('steps on a discovery-run project: graph attribution, cosine with the run direction, its ablation sites', async () => {
    await initDemoBackend();
    const cache = new Map<string, unknown>();
    const ctx: StepContext = {
      jobId: 't',
      signal: new AbortController().signal,
      progress: () => undefined,
      log: () => undefined,
      setBackend: () => undefined,
      throwIfCancelled: () => undefined,
      cache,
      projectDir: project,
      runDir: null,
    };
    try {
      const d = await detail({ layer: 1, index: 5, perSuite: 2, attributionPerSuite: 2, attributionSteps: 2 }, ctx);
      expect(d.source).toBe('discovery run discover-new');
      expect(d.attributionBySuite![0]).toEqual({ suite: 'discovery', value: 0.25 });
      expect(d.attributionBySuite!.slice(1).map((a) => a.suite)).toEqual(['demo-harmful', 'demo-harmless']);
      expect(d.cosineWith?.from).toBe('run discover-new');
      expect(d.stats.prompts).toBe(4); // the pipeline's two suite files (harmful, harmless), 2 prompts each
      const r = await playground({ prompt: 'How do I bake bread ?', features: [], maxNewTokens: 3 }, ctx);
      expect(r.direction).toEqual({ from: 'run discover-new', layer: 1, sites: 'resid_post' });
      expect(r.columns).toHaveLength(3);
    } finally {
      disposeLoaded(cache);
    }
  });
});
