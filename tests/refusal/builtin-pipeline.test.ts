/**
 * A pipeline file naming built-in suites (`builtin:advbench`, `builtin:harmless_test`) runs discovery on the
 * bundled demo model, and the run's manifest records each built-in's name, hash and source. Prompts are limited
 * so this stays a small run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunManifestSchema } from '../../common/schemas/run.js';
import { initBackend } from '../../workers/engine/backend.js';
import { runPipelineFile } from '../../workers/refusal/project.js';
import { writeJsonAtomic } from '../../workers/refusal/runs.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { builtinIndex } from '../../workers/suites/builtin.js';
import { DEMO_DIR, skipWithoutDemo } from '../helpers/requires.js';

const project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-builtin-run-'));
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

describe.skipIf(skipWithoutDemo())('a pipeline naming builtin:advbench on the demo model', () => {
  it('runs, and the manifest records the built-in suites by name, hash and source', async () => {
    await initBackend({ preference: 'wasm' });
    const file = path.join(project, 'pipeline.json');
    writeJsonAtomic(file, {
      kind: 'refusal-workbench/pipeline',
      schemaVersion: 1,
      name: 'builtin-advbench',
      model: path.join(DEMO_DIR, 'model'),
      saes: path.join(DEMO_DIR, 'saes'),
      suites: {
        harmful: { path: 'builtin:advbench', limit: 8, seed: 1 },
        harmless: { path: path.join(DEMO_DIR, 'suites', 'demo-harmless.json'), split: 'train', limit: 16, seed: 2 },
        evalHarmless: { path: 'builtin:harmless_test', split: 'test', limit: 8, seed: 3 },
      },
      params: { layer: 1, maxNewTokens: 2, kStar: 3, steps: 2, methods: ['base', 'cossim_ap'], graph: { enabled: false }, laBatchSize: 8, genBatchSize: 16 },
    });
    const out = await runPipelineFile(file, project, quietCtx());
    expect(out.results.counts.harmful).toBe(8);
    expect(out.results.counts.evalHarmless).toBe(8);
    expect(out.results.refusal_rate.base).toBeGreaterThanOrEqual(0);

    const manifest = RunManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(out.runDir, 'manifest.json'), 'utf8')));
    expect(manifest.status).toBe('succeeded');
    const idx = Object.fromEntries(builtinIndex().suites.map((e) => [e.name, e]));
    const builtins = manifest.inputs.filter((i) => i.builtin);
    expect(builtins.map((i) => i.builtin!.name).sort()).toEqual(['advbench', 'harmless_test']);
    for (const i of builtins) {
      const e = idx[i.builtin!.name]!;
      expect(i.sha256).toBe(e.sha256);
      expect(i.builtin).toEqual({ name: e.name, sha256: e.sha256, source: e.source });
      expect(i.path.endsWith(e.file.split('/').join(path.sep))).toBe(true);
    }
    expect(builtins.find((i) => i.builtin!.name === 'advbench')!.builtin!.source).toEqual({
      repository: 'https://github.com/andyrdt/refusal_direction',
      commit: '9d852fa',
      file: 'dataset/processed/advbench.json',
    });
    // the pipeline itself is kept as written, naming the suites
    expect((manifest.params.pipeline as { suites: { harmful: { path: string } } }).suites.harmful.path).toBe('builtin:advbench');
  });
});
