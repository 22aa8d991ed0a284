import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoCategoriesPipeline, runCategories, type CategoriesOutcome } from '../../workers/categories/project.js';
import { initBackend } from '../../workers/engine/backend.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { repoRoot } from '../helpers/fixtures.js';

const demo = path.join(repoRoot, 'assets', 'demo');

describe('harm categories on the bundled demo', () => {
  let out: CategoriesOutcome;
  beforeAll(async () => {
    await initBackend();
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-cat-demo-'));
    out = await runCategories(demoCategoriesPipeline(demo), demo, project, quietCtx());
  });

  it('finds a non-empty common (refusal) set and category-specific (harm) sets', () => {
    const r = out.results;
    expect(r.categories.length).toBeGreaterThanOrEqual(5);
    expect(r.sets.common.length).toBeGreaterThan(0);
    for (const c of r.categories) expect(r.sets.specific[c]!.length).toBeLessThanOrEqual(r.sets.common.length);
    expect(Object.values(r.sets.specific).some((s) => s.length > 0)).toBe(true);
  });

  it('clamping a category-specific set lowers the common features and P("I") on that category', () => {
    const r = out.results;
    expect(r.common_drop_when_specific_clamped).toBeGreaterThan(0);
    const withSpecific = r.rows.filter((row) => r.sets.specific[row.category]!.length > 0);
    expect(withSpecific.length).toBeGreaterThan(0);
    for (const row of withSpecific) expect(row.pRefusal.specificClamped, row.category).toBeLessThan(row.pRefusal.base);
    expect(withSpecific.filter((row) => row.commonDrop > 0).length).toBeGreaterThanOrEqual(withSpecific.length / 2);
  });

  it('reports every rate with the number of prompts behind it, and stores the run', () => {
    const r = out.results;
    for (const row of r.rows) for (const k of ['base', 'specific', 'common', 'union'] as const) expect(row.refusal[k]!.n).toBe(row.n);
    expect(r.counts.base).toBe(r.rows.reduce((s, row) => s + row.n, 0));
    expect(r.counts.transfer).toBe(r.rows.reduce((s, row) => s + row.n, 0) * (r.categories.length - 1));
    expect(r.refusal_rate.base).toBeGreaterThan(0.9);
    // Clamping the common (refusal) set removes refusal on the demo.
    expect(r.refusal_rate.common).toBeLessThan(r.refusal_rate.base - 0.5);
    const manifest = JSON.parse(fs.readFileSync(path.join(out.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('succeeded');
    expect(manifest.backend).toMatch(/wasm|cpu|webgpu|tensorflow/);
    expect(manifest.inputs.length).toBeGreaterThan(3);
  });
});
