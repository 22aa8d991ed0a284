/**
 * Parsed result files (common/results) → the view models the views draw. Every function takes a file that
 * its schema has already accepted (so there is no guessing of layouts here): the adapter reads a run's
 * declared output, parses it with the file's versioned reader, and hands the typed value to one of these.
 */
import type { CategoriesResultsFile } from '../../../common/results/categories';
import type { DiscoveryResultsFile } from '../../../common/results/discovery';
import type { FeatureGraphFile } from '../../../common/results/graph';
import type { ProbeRunResult } from '../../../common/results/probe-report';
import type { RunManifest } from '../../../common/schemas/run';
import { METHOD_KEYS } from '../../../common/steps/discover';
import { featureKey, type CategoriesVM, type CategoryInterventionVM, type GraphVM, type ProbeReportVM, type RateCellVM, type RunResultsVM } from './types';

/** The suite the discovery step's rates are on: its held-out harmful prompts. */
export const DISCOVERY_SUITE = 'harmful (held out)';

const ordered = <T>(rec: Partial<Record<string, T>>): Array<[string, T]> =>
  METHOD_KEYS.filter((m) => rec[m] !== undefined).map((m) => [m, rec[m] as T]);

export function runResultsVM(r: DiscoveryResultsFile, manifest: RunManifest): RunResultsVM {
  const rates: RateCellVM[] = ordered(r.refusal_rate).map(([method, refusal]) => ({
    method,
    suite: DISCOVERY_SUITE,
    refusal,
    jailbreak: r.jailbreak_rate?.[method as keyof typeof r.jailbreak_rate],
    n: r.counts.harmful,
  }));
  const harmless = ordered(r.harmless_refusal_rate).map(([method, refusal]) => ({ method, suite: 'harmless', refusal, n: r.counts.evalHarmless }));
  const ce = r.ce ? ordered(r.ce).map(([method, v]) => ({ method, ce: v })) : [];
  return { runId: manifest.id, rates, harmlessRefusal: harmless.length ? harmless : undefined, sideEffects: ce.length ? ce : undefined, manifest };
}

export function graphVM(g: FeatureGraphFile, manifest: RunManifest): GraphVM {
  return {
    runId: manifest.id,
    nodes: g.nodes.map((n) => ({
      id: n.id,
      layer: n.layer,
      index: n.index,
      attribution: n.attribution,
      // roles come from the person's tags or a categories run (GraphView), not from the graph file
      role: 'unlabelled',
      topPositions: n.topPositions,
      neuronpediaId: n.neuronpediaId ?? undefined,
    })),
    edges: g.edges.map((e) => ({ id: `${e.source}->${e.target}:${e.method}`, source: e.source, target: e.target, weight: e.weight, kind: e.method })),
    manifest,
  };
}

const n0 = (x: number | null): number => (x === null ? NaN : x);
const ci0 = (c: readonly [number | null, number | null] | undefined): [number, number] | undefined => (c ? [n0(c[0]), n0(c[1])] : undefined);

export function probeReportVM(report: ProbeRunResult, manifest: RunManifest): ProbeReportVM {
  const names = report.manifest.groupNames ?? {};
  return {
    runId: manifest.id,
    report,
    manifest,
    probes: report.probes.map((p) => ({
      name: p.name,
      features: p.features,
      layer: p.layer,
      valAcc: n0(p.val_acc),
      oodAcc: n0(p.ood_acc),
      oodAccCi: ci0(p.ood_acc_ci)!,
      balancedAcc: n0(p.balanced_acc),
      auroc: n0(p.auroc),
      f1: n0(p.f1),
      perGroup: Object.keys(p.per_group).length
        ? Object.fromEntries(Object.entries(p.per_group).map(([g, v]) => [names[g] ?? g, n0(v.acc)]))
        : undefined,
      perLayer: p.per_layer.length
        ? p.per_layer.map((q) => ({ layer: q.layer, valAcc: n0(q.val_acc), oodAcc: n0(q.ood_acc), oodCi: ci0(q.ood_acc_ci) }))
        : undefined,
    })),
  };
}

export function categoriesVM(r: CategoriesResultsFile, manifest: RunManifest): CategoriesVM {
  const matrix: CategoriesVM['matrix'] = {};
  for (const row of r.rows) matrix[row.category] = Object.fromEntries(row.kStar.map((f) => [featureKey(f), f.score]));
  const interventions: CategoryInterventionVM[] = [];
  for (const row of r.rows)
    for (const [condition, rate] of Object.entries(row.refusal))
      // null: an empty specific set, not measured (not a rate of 0)
      if (rate) interventions.push({ condition, category: row.category, refusalRate: rate.rate, n: rate.n });
  for (const [a, byB] of Object.entries(r.transfer))
    for (const [b, rate] of Object.entries(byB)) interventions.push({ condition: 'transfer', category: a, target: b, refusalRate: rate.rate, n: rate.n });
  return {
    runId: manifest.id,
    categories: r.categories,
    common: r.sets.common.map(featureKey),
    specific: Object.fromEntries(Object.entries(r.sets.specific).map(([c, fs]) => [c, fs.map(featureKey)])),
    matrix,
    interventions,
    commonDropWhenSpecificClamped: r.common_drop_when_specific_clamped,
    manifest,
  };
}
