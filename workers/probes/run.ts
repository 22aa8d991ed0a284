/**
 * One probe run from activations already taken (with attention masks) by the caller: for each probe, fit
 * every candidate (layer) × λ, choose on validation only, evaluate the chosen probe on the OOD set with
 * bootstrap intervals, and report per-layer accuracies for the figure. Returns a ProbeRunResult ready for
 * the report writers. Pure and deterministic.
 */
import type { LogRegOptions, Matrix } from './logreg.js';
import { accuracy, bootstrapCI } from './metrics.js';
import { probeResultFrom, ProbeRunResultSchema, type ProbeManifest, type ProbeRunResult } from './report.js';
import { evaluateProbe, probePredict, selectProbe, DEFAULT_L2_GRID } from './train.js';
import type { MetricSet } from './metrics.js';

export interface ProbeInput {
  /** e.g. 'dense', 'refusal-features', 'random-features'. */
  name: string;
  /** Human description, e.g. 'resid_post (d=2304)'. */
  features: string;
  /** Dense probes: one per layer. Feature probes: one with layer null. Rows align with the labels. */
  candidates: ReadonlyArray<{ layer: number | null; train: Matrix; val: Matrix; ood: Matrix }>;
}

export interface ProbeLabels {
  train: ArrayLike<number>;
  val: ArrayLike<number>;
  ood: ArrayLike<number>;
  /** Group per OOD row (reference: 0 = adversarial, 1 = vanilla). */
  oodGroups?: ArrayLike<number | string>;
}

export interface RunProbesOptions {
  seed: number;
  resamples?: number;
  l2Grid?: readonly number[];
  classWeight?: LogRegOptions['classWeight'];
  standardize?: boolean;
  manifest: Omit<ProbeManifest, 'params' | 'seed'> & { params?: Record<string, unknown> };
  /** Called after each probe with (done, total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export function runProbes(inputs: readonly ProbeInput[], labels: ProbeLabels, opts: RunProbesOptions): ProbeRunResult {
  const l2Grid = opts.l2Grid ?? DEFAULT_L2_GRID;
  const resamples = opts.resamples ?? 1000;
  const bopts = { seed: opts.seed, resamples };
  const probes = inputs.map((inp, k) => {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('probe run cancelled');
    for (const c of inp.candidates) {
      if (c.train.length !== labels.train.length || c.val.length !== labels.val.length || c.ood.length !== labels.ood.length) {
        throw new Error(`probe ${inp.name}, layer ${c.layer}: activation rows do not match the labels`);
      }
    }
    const sel = selectProbe(
      inp.candidates.map((c) => ({ layer: c.layer, train: { X: c.train, y: labels.train }, val: { X: c.val, y: labels.val } })),
      { l2Grid, classWeight: opts.classWeight ?? null, ...(opts.standardize !== undefined ? { standardize: opts.standardize } : {}) },
    );
    const chosen = inp.candidates.find((c) => c.layer === sel.best.layer)!;
    const ood = evaluateProbe(sel.probe, { X: chosen.ood, y: labels.ood, ...(labels.oodGroups ? { groups: labels.oodGroups } : {}) }, bopts);
    // Per-layer OOD accuracy with an interval (for the figure only; selection never sees it).
    const perLayerOod: (MetricSet | null)[] = sel.perLayer.map((pl, j) => {
      if (pl.row.layer === null || inp.candidates.length < 2) return null;
      const X = inp.candidates[j]!.ood;
      const pred = probePredict(pl.probe, X);
      const y = labels.ood;
      const iv = bootstrapCI(y.length, (idx) => {
        let c = 0;
        for (let i = 0; i < idx.length; i++) if (y[idx[i]!] === pred[idx[i]!]) c++;
        return c / idx.length;
      }, { ...bopts, strata: y });
      const acc = accuracy(y, pred);
      const nan = { value: NaN, lo: NaN, hi: NaN, valid: 0 };
      return { n: y.length, accuracy: { ...iv, value: acc }, balancedAccuracy: nan, auroc: nan, f1: nan, perGroup: {} };
    });
    opts.onProgress?.(k + 1, inputs.length);
    return probeResultFrom({
      name: inp.name,
      features: inp.features,
      selection: sel,
      ood,
      perLayerOod,
      nTrain: labels.train.length,
      nVal: labels.val.length,
    });
  });
  return ProbeRunResultSchema.parse({
    kind: 'refusal-workbench/probe-report',
    schemaVersion: 2,
    manifest: {
      ...opts.manifest,
      seed: opts.seed,
      params: { l2Grid: [...l2Grid], resamples, classWeight: opts.classWeight ?? null, standardize: opts.standardize ?? true, ...(opts.manifest.params ?? {}) },
    },
    probes,
  });
}
