/**
 * The WildJailbreak TSV layout through a probe pipeline file, on the demo model (its prompts written as a
 * WildJailbreak train TSV): import, behavioural labels of a sample of adversarial harmful prompts, the
 * paper's train/val/test (buildProbeSets), probes with a given refusal set and a user set. Skipped while
 * the demo has not been built.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { readProbePipeline, runProbeProject } from '../../workers/probes/project.js';
import { readProbeReport } from '../../workers/probes/report-files.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = process.env.RW_DEMO_DIR ?? path.resolve(import.meta.dirname, '../../assets/demo');

describe.skipIf(skipWithoutDemo(DEMO))('probe pipeline file: WildJailbreak TSV', () => {
  it('imports the TSV, labels adversarial prompts by behaviour, builds the paper splits and reports', async () => {
    await initBackend();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-probe-wjb-'));
    // Plain requests and wrapped ones (the adversarial suite may also hold the wrapped requests' vanilla pairs).
    const suite = (n: string) =>
      (JSON.parse(fs.readFileSync(path.join(DEMO, 'suites', `${n}.json`), 'utf8')).items as { instruction: string; tags: string[] }[]).filter((i) => !i.tags.includes('vanilla') || n !== 'demo-adversarial');
    const rows = ['vanilla\tadversarial\tdata_type'];
    for (const it of suite('demo-harmful')) rows.push(`${it.instruction}\t\tvanilla_harmful`);
    for (const it of suite('demo-harmless')) rows.push(`${it.instruction}\t\tvanilla_benign`);
    for (const it of suite('demo-adversarial')) rows.push(`\t${it.instruction}\tadversarial_harmful`);
    fs.writeFileSync(path.join(dir, 'wjb.tsv'), rows.join('\n') + '\n');
    fs.writeFileSync(
      path.join(dir, 'probe.json'),
      JSON.stringify({
        kind: 'refusal-workbench/probe-pipeline',
        schemaVersion: 1,
        name: 'wjb-demo',
        model: path.join(DEMO, 'model'),
        saes: path.join(DEMO, 'saes'),
        data: { kind: 'wildjailbreak', tsv: 'wjb.tsv', maxAdversarial: 160 },
        refusalFeatures: { features: ['L1/76', 'L1/101', 'L0/3'] },
        userSets: { mine: ['L0/10', 'L1/20'] },
        params: { trainPerClass: 120, valPerClass: 40, testPerGroup: 50, maxNewTokens: 8, genBatchSize: 64, actBatchSize: 32, resamples: 200 },
      }),
    );
    const pl = readProbePipeline(path.join(dir, 'probe.json'));
    const out = await runProbeProject(pl, dir, path.join(dir, 'project'), quietCtx());
    expect(out.result.probes.map((p) => p.name)).toEqual(['dense', 'refusal-features', 'random-features', 'mine']);
    const labels = JSON.parse(fs.readFileSync(path.join(out.runDir, 'labels.json'), 'utf8'));
    expect(labels.labels).toHaveLength(160);
    const jailbroke = labels.labels.filter((l: { y: number }) => l.y === 0).length;
    expect(jailbroke).toBeGreaterThan(0);
    const splits = JSON.parse(fs.readFileSync(path.join(out.runDir, 'splits.json'), 'utf8'));
    expect(splits.train).toHaveLength(240);
    expect(splits.val).toHaveLength(80);
    const nTest = Math.min(50, jailbroke);
    expect(splits.test).toHaveLength(2 * nTest);
    // Test: vanilla harmful y=1 group 1, jailbreaking adversarial y=0 group 0.
    expect(splits.test.every(([, y, g]: [string, number, number]) => y === g)).toBe(true);
    const ids = [...splits.train, ...splits.val, ...splits.test].map((r: [string]) => r[0]);
    expect(new Set(ids).size).toBe(ids.length);
    const report = await readProbeReport(out.runDir);
    expect(report.probes.every((p) => p.ood_acc !== null && p.ood_acc_ci[0] !== null)).toBe(true);
    expect(report.manifest.inputs.some((i) => i.name.startsWith('WildJailbreak TSV') && i.sha256)).toBe(true);
    // A rerun with the same pipeline reads the behavioural labels back (checkpointed step).
    const again = await runProbeProject(pl, dir, path.join(dir, 'project'), quietCtx());
    expect(again.runId).toBe(out.runId);
    expect(again.result.probes.map((p) => p.ood_acc)).toEqual(out.result.probes.map((p) => p.ood_acc));
  });
});
