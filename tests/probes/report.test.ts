import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/suites/ops.js';
import {
  evaluateProbe,
  loadProbeReportJson,
  probeAccuracySvg,
  probeCliSummary,
  probeLayersCsv,
  probeReportCsv,
  probeReportHtml,
  probeReportJson,
  probeReportMarkdown,
  probeResultFrom,
  ProbeRunResultSchema,
  selectProbe,
  type ProbeRunResult,
} from '../../workers/probes/index.js';
import { readProbeReport, writeProbeReport } from '../../workers/probes/report-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rw-probe-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const manifest = {
  runId: 'probe-20260101-000000',
  createdAt: '2026-01-01T00:00:00.000Z',
  tool: { name: 'refusal-workbench', version: '0.1.0' },
  model: { name: 'demo-tiny', sha256: 'ab'.repeat(32) },
  seed: 42,
  inputs: [
    { name: 'harmful_train', n: 8, sha256: 'cd'.repeat(32) },
    { name: 'wjb_adversarial', n: 8 },
  ],
  params: { l2Grid: [0.01, 1], resamples: 200 },
  backend: 'cpu',
  groupNames: { '0': 'adversarial', '1': 'vanilla' },
};

/** A hand-made result: exact numbers, so the golden files test only the writers. */
const fixed: ProbeRunResult = {
  kind: 'refusal-workbench/probe-report',
  schemaVersion: 2,
  manifest,
  probes: [
    {
      name: 'dense',
      features: 'resid_post (d=16)',
      layer: 2,
      l2: 0.01,
      val_acc: 0.95,
      ood_acc: 0.55,
      ood_acc_ci: [0.45, 0.65],
      auroc: 0.61,
      auroc_ci: [0.5, 0.72],
      f1: 0.6,
      balanced_acc: 0.55,
      per_group: { '0': { acc: 0.2, n: 50, lo: 0.1, hi: 0.32 }, '1': { acc: 0.9, n: 50, lo: 0.82, hi: 0.98 } },
      per_layer: [
        { layer: 0, l2: 1, val_acc: 0.6, ood_acc: 0.5, ood_acc_ci: [0.4, 0.6] },
        { layer: 1, l2: 0.01, val_acc: 0.85, ood_acc: 0.52 },
        { layer: 2, l2: 0.01, val_acc: 0.95, ood_acc: 0.55, ood_acc_ci: [0.45, 0.65] },
        { layer: 3, l2: 0.1, val_acc: 0.93, ood_acc: 0.7 },
      ],
      n_train: 400,
      n_val: 80,
      n_ood: 100,
    },
    {
      name: 'refusal-features',
      features: 'SAE features (7)',
      layer: null,
      l2: 1,
      val_acc: 0.9,
      ood_acc: 0.8,
      ood_acc_ci: [0.72, 0.87],
      auroc: 0.88,
      f1: 0.81,
      balanced_acc: 0.8,
      per_group: { '0': { acc: 0.75, n: 50, lo: 0.62, hi: 0.86 }, '1': { acc: 0.85, n: 50, lo: 0.75, hi: 0.94 } },
      per_layer: [],
    },
    {
      name: 'random "ctl"',
      features: 'random features (7), a|b',
      layer: null,
      l2: null,
      val_acc: 0.52,
      ood_acc: 0.49,
      ood_acc_ci: [0.39, 0.59],
      auroc: null,
      f1: 0,
      balanced_acc: 0.5,
      per_group: {},
      per_layer: [],
    },
  ],
};

describe('probe report writers (golden files)', () => {
  it('Markdown', async () => {
    await expect(probeReportMarkdown(fixed, { chartFile: 'probe-accuracy.svg' })).toMatchFileSnapshot('__snapshots__/fixed-report.md');
  });
  it('SVG chart', async () => {
    const svg = probeAccuracySvg(fixed);
    await expect(svg).toMatchFileSnapshot('__snapshots__/fixed-accuracy.svg');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('&quot;ctl&quot;');
    expect((svg.match(/<polyline /g) ?? []).length).toBe(2);
  });
  it('HTML and CSV', async () => {
    await expect(probeReportHtml(fixed)).toMatchFileSnapshot('__snapshots__/fixed-report.html');
    await expect(probeReportCsv(fixed)).toMatchFileSnapshot('__snapshots__/fixed-report.csv');
    await expect(probeLayersCsv(fixed)).toMatchFileSnapshot('__snapshots__/fixed-layers.csv');
    expect(probeReportCsv(fixed).split('\n')[3]).toBe('"random ""ctl""","random features (7), a|b",,,0.520,0.490,0.390,0.590,,,,0.000,0.500,,,,');
  });
  it('JSON round-trips through the schema; CLI summary line', () => {
    const text = probeReportJson(fixed);
    expect(loadProbeReportJson(text)).toEqual(fixed);
    expect(() => loadProbeReportJson(text.replace('"refusal-workbench/probe-report"', '"other"'), 'runs/x/probe-report.json')).toThrow(/runs\/x\/probe-report.json: not a probe report file/);
    // a version-1 file (kind "probe-run") upgrades to the same report
    expect(loadProbeReportJson(text.replace('"refusal-workbench/probe-report"', '"probe-run"').replace('"schemaVersion": 2', '"schemaVersion": 1'))).toEqual(fixed);
    expect(JSON.parse(probeCliSummary(fixed))).toEqual({
      probes: [
        { name: 'dense', features: 'resid_post (d=16)', layer: 2, val_acc: 0.95, ood_acc: 0.55, ood_acc_ci: [0.45, 0.65], auroc: 0.61 },
        { name: 'refusal-features', features: 'SAE features (7)', layer: null, val_acc: 0.9, ood_acc: 0.8, ood_acc_ci: [0.72, 0.87], auroc: 0.88 },
        { name: 'random "ctl"', features: 'random features (7), a|b', layer: null, val_acc: 0.52, ood_acc: 0.49, ood_acc_ci: [0.39, 0.59], auroc: null },
      ],
    });
  });
});

function gauss(rnd: () => number) {
  return Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-300))) * Math.cos(2 * Math.PI * rnd());
}

/** Seeded end-to-end: layered dense features, a feature probe and a random probe, OOD with groups. */
function seededRun(): ProbeRunResult {
  const rnd = mulberry32(2024);
  const make = (n: number, shift: number, flipFrac = 0) => {
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const layers = [0, 1, 2].map((l) => y.map((v) => [gauss(rnd) + (v ? 1 : -1) * l * 0.8 * (1 - shift), gauss(rnd) + shift]));
    const groups = y.map((_, i) => (i < n * flipFrac ? 0 : 1));
    return { y, layers, groups };
  };
  const tr = make(60, 0);
  const va = make(30, 0);
  const te = make(40, 0.5, 0.5);
  const sel = selectProbe([0, 1, 2].map((l) => ({ layer: l, train: { X: tr.layers[l]!, y: tr.y }, val: { X: va.layers[l]!, y: va.y } })), { l2Grid: [0.01, 1] });
  const opts = { seed: 42, resamples: 200 };
  const ood = evaluateProbe(sel.probe, { X: te.layers[sel.best.layer!]!, y: te.y, groups: te.groups }, opts);
  const perLayerOod = sel.perLayer.map((pl) => evaluateProbe(pl.probe, { X: te.layers[pl.row.layer!]!, y: te.y }, opts));
  const dense = probeResultFrom({ name: 'dense', features: 'resid_post (d=2)', selection: sel, ood, perLayerOod, nTrain: 60, nVal: 30 });
  const randX = (n: number) => Array.from({ length: n }, () => [gauss(rnd), gauss(rnd)]);
  const rsel = selectProbe([{ layer: null, train: { X: randX(60), y: tr.y }, val: { X: randX(30), y: va.y } }], { l2Grid: [0.01, 1] });
  const rood = evaluateProbe(rsel.probe, { X: randX(40), y: te.y, groups: te.groups }, opts);
  const random = probeResultFrom({ name: 'random', features: 'random features (2)', selection: rsel, ood: rood });
  return ProbeRunResultSchema.parse({ kind: 'refusal-workbench/probe-report', schemaVersion: 2, manifest, probes: [dense, random] });
}

describe('seeded probe run → report', () => {
  it('is deterministic and matches the golden Markdown and SVG', async () => {
    const a = seededRun();
    const b = seededRun();
    expect(a).toEqual(b);
    expect(a.probes[0]!.layer).toBe(2);
    expect(a.probes[0]!.per_layer.map((l) => l.layer)).toEqual([0, 1, 2]);
    expect(a.probes[1]!.ood_acc_ci[0]!).toBeLessThan(0.5 + 0.2);
    await expect(probeReportMarkdown(a)).toMatchFileSnapshot('__snapshots__/seeded-report.md');
    await expect(probeAccuracySvg(a)).toMatchFileSnapshot('__snapshots__/seeded-accuracy.svg');
  });

  it('writes every report file and re-loads the JSON', async () => {
    const run = seededRun();
    const out = path.join(dir, 'runs', 'p1');
    const files = await writeProbeReport(out, run);
    expect(Object.keys(files).sort()).toEqual(['probe-accuracy.svg', 'probe-layers.csv', 'probe-report.csv', 'probe-report.html', 'probe-report.json', 'probe-report.md']);
    expect(await readProbeReport(out)).toEqual(run);
    expect(readFileSync(files['probe-report.md']!, 'utf8')).toContain('![Accuracy per layer, in-distribution vs OOD](probe-accuracy.svg)');
    expect(readFileSync(files['probe-report.html']!, 'utf8')).toContain('<svg xmlns=');
  });
});
