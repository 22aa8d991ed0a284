/**
 * Issue 5 acceptance on the bundled demo (assets/demo, or RW_DEMO_DIR): the default pipeline through the
 * CLI entry point. Skipped while the demo has not been built.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDiscoverCommand } from '../../main/cli/discover.js';
import { initBackend } from '../../workers/engine/backend.js';
import { demoPipeline, planPipelineFile, runPipelineFile } from '../../workers/refusal/project.js';
import { writeJsonAtomic } from '../../workers/refusal/runs.js';
import { quietCtx } from '../../workers/refusal/types.js';
import { skipWithoutDemo } from '../helpers/requires.js';

const DEMO = process.env.RW_DEMO_DIR ?? path.resolve(import.meta.dirname, '../../assets/demo');

async function cli(args: string[]): Promise<{ code: number; out: any }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    process.env.RW_DEMO_DIR = DEMO;
    code = await runDiscoverCommand(args);
  } finally {
    process.stdout.write = write;
  }
  return { code, out: code === 0 ? JSON.parse(lines.join('').trim().split('\n').at(-1)!) : null };
}

describe.skipIf(skipWithoutDemo(DEMO))('discovery on the demo', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-demo-'));
  let firstResults: any = null;
  it('discover --demo --json: K* clamping removes refusal, controls do not', async () => {
    const { code, out } = await cli(['discover', '--demo', '--json', '--quiet', '--project', project]);
    expect(code).toBe(0);
    console.log(JSON.stringify(out));
    const r = out.refusal_rate, h = out.harmless_refusal_rate;
    expect(r.base - r.cossim_ap).toBeGreaterThanOrEqual(0.6);
    expect(r.base - r.random).toBeLessThanOrEqual(0.1);
    expect(r.cossim_ap).toBeLessThanOrEqual(r.cossim);
    expect(r.cossim_ap).toBeLessThanOrEqual(r.actdiff);
    expect(h.cossim_ap).toBeLessThanOrEqual(0.1);
    expect(out.graph.upward_edges).toBeGreaterThan(0);
    // §2.13: successful jailbreaks suppress the refusal features far more than failed ones
    expect(out.mechanism.jailbreak.n).toBeGreaterThan(0);
    expect(out.mechanism.failed.n).toBeGreaterThan(0);
    expect(out.mechanism.jailbreak.refusalDrop).toBeGreaterThan(out.mechanism.failed.refusalDrop);
    // the selected K* costs less CE on harmless rollouts than the CosSim set of the same size
    expect(out.ce.cossim_ap).toBeLessThanOrEqual(out.ce.cossim);
    const run = fs.readdirSync(path.join(project, 'runs'))[0];
    const manifest = JSON.parse(fs.readFileSync(path.join(project, 'runs', run, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('succeeded');
    expect(manifest.inputs.every((i: { sha256?: string }) => i.sha256)).toBe(true);
    firstResults = JSON.parse(fs.readFileSync(path.join(project, 'runs', run, 'results.json'), 'utf8'));
    // resume: the same pipeline in the same project reads every step and batch back
    const again = await cli(['discover', '--demo', '--json', '--quiet', '--project', project]);
    expect(again.out.refusal_rate).toEqual(out.refusal_rate);
    expect(again.out.seconds).toBeLessThan(out.seconds);
  });

  it('the literal splice path selects the same features and gives the same rates as the shortcuts', async () => {
    const p3 = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-demo-lit-'));
    const file = path.join(p3, 'pipeline.json');
    writeJsonAtomic(file, demoPipeline(DEMO, { attributionPath: 'literal', clampPath: 'literal', graph: { enabled: false } }));
    await initBackend();
    const lit = await runPipelineFile(file, p3, quietCtx());
    const short = firstResults;
    expect(lit.results.sets.cossim_ap).toEqual(short.sets.cossim_ap);
    expect(lit.results.sets.ap).toEqual(short.sets.ap);
    expect(lit.results.refusal_rate).toEqual(short.refusal_rate);
    expect(lit.results.harmless_refusal_rate).toEqual(short.harmless_refusal_rate);
    // token for token
    const gens = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'generations.json'), 'utf8'));
    const shortGens = gens(path.join(project, 'runs', fs.readdirSync(path.join(project, 'runs'))[0]));
    const litGens = gens(lit.runDir);
    for (const k of Object.keys(litGens)) expect(litGens[k].map((g: { tokens: number[] }) => g.tokens)).toEqual(shortGens[k].map((g: { tokens: number[] }) => g.tokens));
    console.log(`literal ${lit.seconds.toFixed(1)} s (attribution ${lit.results.timings.attribution.toFixed(2)} s) vs shortcut ${short.seconds.toFixed(1)} s (attribution ${short.timings.attribution.toFixed(2)} s)`);
  });

  it('plans memory from file headers: the shortcut path holds one SAE, the literal path all', () => {
    const p4 = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-demo-plan-'));
    const file = path.join(p4, 'pipeline.json');
    writeJsonAtomic(file, demoPipeline(DEMO));
    const plan = planPipelineFile(file, 64 * 1024 ** 2);
    expect(plan.shortcut.parts.saes).toBe(plan.saeBytes.maxLayer);
    expect(plan.literal.parts.saes).toBe(plan.saeBytes.total);
    expect(plan.shortcut.peakBytes).toBeLessThan(plan.literal.peakBytes);
    expect(plan.fitBatch).toBeGreaterThan(0);
  });

  it('runs under a memory cap of the model + one SAE layer (streamed)', async () => {
    const p2 = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-demo-cap-'));
    const { code, out } = await cli(['discover', '--demo', '--json', '--quiet', '--memory-cap', 'one-sae', '--project', p2]);
    expect(code).toBe(0);
    expect(out.memory.resident_sae_layers_peak).toBe(1);
    expect(out.memory.planned_peak_bytes).toBeLessThanOrEqual(out.memory.cap_bytes);
    expect(out.refusal_rate.base - out.refusal_rate.cossim_ap).toBeGreaterThanOrEqual(0.6);
  });
});
