/**
 * Issue 6 acceptance on the bundled demo (assets/demo, or RW_DEMO_DIR): `probe --demo --json` on an empty
 * project (discovery runs first), then again (discovery and labels reused, same figures). Dense
 * (best layer), refusal-feature and random-feature probes are all reported with OOD accuracy and
 * intervals; the random probe is near chance; the report files are written and re-load. Skipped while
 * the demo has not been built.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbeCommand } from '../../main/cli/probe.js';
import { initBackend } from '../../workers/engine/backend.js';
import { readProbeReport } from '../../workers/probes/report-files.js';
import type { DiscoveryResults } from '../../workers/refusal/pipeline.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = process.env.RW_DEMO_DIR ?? path.resolve(import.meta.dirname, '../../assets/demo');

describe.skipIf(skipWithoutDemo(DEMO))('probes on the demo', () => {
  it('probe --demo --json: dense (best layer), refusal-feature and random-feature probes with OOD intervals; report files re-load', async () => {
    await initBackend();
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-probe-demo-'));
    const cli = async (): Promise<{ code: number; last: string }> => {
      const lines: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
      const prev = process.env.RW_DEMO_DIR;
      try {
        process.env.RW_DEMO_DIR = DEMO;
        const code = await runProbeCommand(['--demo', '--json', '--quiet', '--project', project]);
        return { code, last: lines.join('').trim().split('\n').at(-1)! };
      } finally {
        process.stdout.write = write;
        if (prev === undefined) delete process.env.RW_DEMO_DIR;
        else process.env.RW_DEMO_DIR = prev;
      }
    };
    // An empty project: discovery runs first, then the probes.
    const first = await cli();
    const code = first.code;
    expect(code).toBe(0);
    const out = JSON.parse(first.last);
    console.log(JSON.stringify(out));
    const byName = Object.fromEntries(out.probes.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(['dense', 'refusal-features', 'random-features']);
    for (const p of out.probes) {
      expect(Object.keys(p)).toEqual(['name', 'features', 'layer', 'val_acc', 'ood_acc', 'ood_acc_ci', 'auroc']);
      expect(typeof p.ood_acc).toBe('number');
      expect(p.ood_acc_ci[0]).toBeLessThanOrEqual(p.ood_acc);
      expect(p.ood_acc_ci[1]).toBeGreaterThanOrEqual(p.ood_acc);
    }
    expect(byName.dense.layer).not.toBeNull();
    expect(byName['refusal-features'].layer).toBeNull();
    const r = byName['random-features'];
    expect((r.ood_acc >= 0.3 && r.ood_acc <= 0.7) || (r.ood_acc_ci[0] <= 0.5 && r.ood_acc_ci[1] >= 0.5)).toBe(true);

    // The stored probe run: report files, re-loaded; manifest with hashed inputs.
    const runs = fs.readdirSync(path.join(project, 'runs')).filter((d) => d.startsWith('probe-'));
    expect(runs).toHaveLength(1);
    const dir = path.join(project, 'runs', runs[0]!);
    for (const f of ['probe-report.json', 'probe-report.csv', 'probe-layers.csv', 'probe-report.md', 'probe-report.html', 'probe-accuracy.svg', 'labels.json', 'splits.json', 'manifest.json'])
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    const report = await readProbeReport(dir);
    expect(report.probes.map((p) => p.name)).toEqual(['dense', 'refusal-features', 'random-features']);
    // W5: every layer reported; the chosen layer has the best validation accuracy.
    const dense = report.probes[0]!;
    const cfg = JSON.parse(fs.readFileSync(path.join(DEMO, 'model', 'config.json'), 'utf8'));
    expect(dense.per_layer).toHaveLength(cfg.num_hidden_layers);
    expect(dense.val_acc).toBe(Math.max(...dense.per_layer.map((l) => l.val_acc!)));
    expect(report.manifest.backend).toBeTruthy();
    expect(report.manifest.inputs.every((i) => i.sha256)).toBe(true);
    expect(report.manifest.params.featureSets).toBeDefined();
    const csv = fs.readFileSync(path.join(dir, 'probe-report.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(fs.readFileSync(path.join(dir, 'probe-report.html'), 'utf8')).toContain('<svg');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'succeeded', step: 'refusal.probe', seed: 42 });
    expect(manifest.inputs.every((i: { sha256?: string }) => i.sha256)).toBe(true);
    expect(manifest.timings.total).toBeGreaterThan(0);
    // Run again: the discovery run and the probe run's behavioural labels are reused; same figures.
    const second = await cli();
    expect(second.code).toBe(0);
    expect(second.last).toBe(first.last);
    const discRuns = fs.readdirSync(path.join(project, 'runs')).filter((d) => d.startsWith('discover-'));
    expect(discRuns).toHaveLength(1);
    expect(fs.readdirSync(path.join(project, 'runs')).filter((d) => d.startsWith('probe-'))).toHaveLength(1);
    const disc = { results: JSON.parse(fs.readFileSync(path.join(project, 'runs', discRuns[0]!, 'results.json'), 'utf8')) as DiscoveryResults };
    // The refusal set is the top 7 (as the paper) of the discovery run's CosSim+AP global set; the random
    // control has its size and layers.
    const sets = Object.fromEntries(manifest.featureSets.map((s: { name: string; features: string[] }) => [s.name, s.features]));
    expect(sets['refusal-features']).toEqual(disc.results.sets.cossim_ap_global!.sets[0]!.slice(0, 7).map((f) => `L${f.layer}/${f.index}`));
    const layersOf = (xs: string[]) => xs.map((x) => x.split('/')[0]);
    expect(layersOf(sets['random-features'])).toEqual(layersOf(sets['refusal-features']));
    const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'));
    expect(labels.labels.length).toBeGreaterThan(0);
    console.log(`behaviour: adversarial refusal rate ${labels.refusalRate}; timings ${JSON.stringify(manifest.timings)}`);
  });
});
