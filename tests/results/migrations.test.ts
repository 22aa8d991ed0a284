/**
 * common/results: every result file a step declares has a versioned reader; old files upgrade through the
 * migrations (checked against frozen files); a file of another kind, an unknown version or a field that does
 * not match fails with an error naming the file; writers refuse what the readers would refuse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkResultForWrite,
  discoveryResults,
  featureGraph,
  probeReport,
  readResult,
  readResultText,
  RESULT_DEFS,
  resultDef,
  ResultFileError,
  upgradeResult,
} from '../../common/results/index.js';
import { STEPS } from '../../common/steps/index.js';

const FIX = path.join(__dirname, '..', 'fixtures', 'results');
const frozen = (name: string) => fs.readFileSync(path.join(FIX, name), 'utf8');

/** Kinds that are pipeline inputs rather than results (their schema is the pipeline file's). */
const NOT_RESULTS = new Set(['refusal-workbench/resolved-pipeline']);

describe('the result registry', () => {
  it('has a reader at the declared version for every versioned output of every step', () => {
    for (const step of Object.values(STEPS))
      for (const o of step.outputs) {
        if (o.schemaVersion === undefined || NOT_RESULTS.has(o.kind)) continue;
        const def = resultDef(o.kind);
        expect(def, `${step.name} ${o.file}`).toBeDefined();
        expect(def!.version, `${step.name} ${o.file}`).toBe(o.schemaVersion);
      }
  });
  it('every definition has a migration for each version it claims to upgrade', () => {
    for (const d of RESULT_DEFS) for (let v = d.oldest ?? d.version; v < d.version; v++) expect(typeof d.migrations[v]).toBe('function');
  });
});

describe('frozen old-version files upgrade', () => {
  it('discovery results v1 → v2: numbers kept, fields v1 lacked are "not computed"', () => {
    const raw = JSON.parse(frozen('discovery-results.v1.json'));
    const r = readResult(discoveryResults, raw, 'discovery-results.v1.json');
    expect(r.schemaVersion).toBe(2);
    expect(r.refusal_rate).toEqual(raw.refusal_rate);
    expect(r.refusal_rate.cossim_ap).toBe(0);
    expect(r.refusal_rate.random).toBe(0.9625);
    expect(r.harmless_refusal_rate.ap).toBe(0.5875);
    expect(r.counts).toEqual({ harmful: 80, harmless: 80, evalHarmless: 80 });
    expect(r.layerSweep?.map((x) => x.layer)).toEqual([0, 1]);
    expect(r.kStar).toBeNull();
    expect(r.ce).toBeNull();
    expect(r.mechanism).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.memory?.saesResident).toBe(true);
  });
  it('feature graph v1 (kind "feature-graph") → v2', () => {
    const raw = JSON.parse(frozen('feature-graph.v1.json'));
    const g = readResult(featureGraph, raw, 'feature-graph.v1.json');
    expect(g.kind).toBe('refusal-workbench/feature-graph');
    expect(g.schemaVersion).toBe(2);
    expect(g.nodes.map((n) => n.id)).toEqual(raw.nodes.map((n: { id: string }) => n.id));
    expect(g.nodes[0].attribution).toBe(raw.nodes[0].attribution);
    expect(g.nodes[2].neuronpediaId).toBeNull();
    expect(g.edges).toEqual(raw.edges);
  });
  it('probe report v1 (kind "probe-run") → v2', () => {
    const r = readResultText(probeReport, frozen('probe-report.v1.json'), 'probe-report.v1.json');
    expect(r.kind).toBe('refusal-workbench/probe-report');
    expect(r.probes.map((p) => [p.name, p.ood_acc])).toEqual([
      ['dense', 0.6],
      ['refusal-features', 0.8],
    ]);
    expect(r.probes[0].per_group['0'].n).toBe(20);
  });
  it('upgrading does not touch the input object', () => {
    const raw = JSON.parse(frozen('discovery-results.v1.json'));
    const copy = structuredClone(raw);
    upgradeResult(discoveryResults, raw, 'x');
    expect(raw).toEqual(copy);
  });
});

describe('clear errors naming the file', () => {
  const v1 = () => JSON.parse(frozen('discovery-results.v1.json'));
  it('a newer version than this build reads', () => {
    expect(() => readResult(discoveryResults, { ...v1(), schemaVersion: 9 }, 'runs/a/results.json')).toThrow(
      'runs/a/results.json: discovery results schemaVersion 9 is newer than this build reads (up to 2): update the workbench',
    );
  });
  it('another kind, no kind, no version, not an object, not JSON', () => {
    expect(() => readResult(discoveryResults, { ...v1(), kind: 'refusal-workbench/categories-results' }, 'f.json')).toThrow(/^f\.json: not a discovery results file \(kind "refusal-workbench\/categories-results"/);
    expect(() => readResult(featureGraph, { nodes: [] }, 'g.json')).toThrow(/^g\.json: not a feature graph file \(kind null/);
    expect(() => readResult(discoveryResults, { ...v1(), schemaVersion: undefined }, 'f.json')).toThrow(/f\.json: discovery results: schemaVersion missing/);
    expect(() => readResult(discoveryResults, [1, 2], 'f.json')).toThrow(/not a discovery results file \(expected a JSON object\)/);
    expect(() => readResultText(discoveryResults, '{"kind":', 'f.json')).toThrow(/^f\.json: not valid JSON/);
  });
  it('a field that does not match: the path of the field', () => {
    const bad = { ...v1(), refusal_rate: { base: 'high' } };
    let err: unknown;
    try {
      readResult(discoveryResults, bad, 'runs/b/results.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResultFileError);
    expect((err as ResultFileError).file).toBe('runs/b/results.json');
    expect((err as Error).message).toMatch(/refusal_rate\.base: /);
  });
  it('a graph edge to a node that is not there', () => {
    const g = readResult(featureGraph, JSON.parse(frozen('feature-graph.v1.json')), 'g');
    expect(() => readResult(featureGraph, { ...g, edges: [{ source: 'L0/335', target: 'L9/9', weight: 1, method: 'gradient' }] }, 'g.json')).toThrow(/edges\.0\.target: no node L9\/9/);
  });
});

describe('writers validate with the readers’ schema', () => {
  it('refuses an old version, another kind and a bad field; passes a valid file through unchanged', () => {
    const ok = readResult(discoveryResults, JSON.parse(frozen('discovery-results.v1.json')), 'x');
    expect(checkResultForWrite(discoveryResults, ok, 'out/results.json')).toBe(ok);
    expect(() => checkResultForWrite(discoveryResults, { ...ok, schemaVersion: 1 }, 'out/results.json')).toThrow(/^out\/results\.json: refusing to write/);
    expect(() => checkResultForWrite(discoveryResults, { ...ok, layer: -1 }, 'out/results.json')).toThrow(/out\/results\.json: refusing to write discovery results: layer/);
    expect(() => checkResultForWrite(featureGraph, ok, 'out/graph.json')).toThrow(/feature graph file must be/);
  });
});
