/**
 * Probe training and model selection: standardise on train, fit L2 logistic regression for each
 * (layer, λ), choose the best on validation only, then evaluate on the held-out / OOD set with
 * bootstrap intervals. Deterministic.
 */
import { decision, trainLogReg, type LogRegModel, type LogRegOptions, type Matrix } from './logreg.js';
import { accuracy, auroc, evaluateBinary, type MetricSet } from './metrics.js';
import { applyStandardizer, fitStandardizer, type Standardizer } from './standardize.js';

export interface ProbeData {
  X: Matrix;
  y: ArrayLike<number>;
  /** Optional group per row (e.g. 0 = adversarial, 1 = vanilla) for per-group accuracy. */
  groups?: ArrayLike<number | string>;
}

export interface TrainedProbe {
  layer: number | null;
  l2: number;
  standardizer: Standardizer | null;
  model: LogRegModel;
}

export interface FitOptions {
  l2: number;
  /** Warm start in the standardised space (a previous probe's model on the same features). */
  init?: { w: ArrayLike<number>; b: number };
  classWeight?: LogRegOptions['classWeight'];
  /** Standardise features with train statistics (default true). */
  standardize?: boolean;
  tol?: number;
}

import { DEFAULT_L2_GRID } from '../../common/steps/probe.js';
export { DEFAULT_L2_GRID };

export function fitProbe(train: ProbeData, layer: number | null, opts: FitOptions): TrainedProbe {
  const st = opts.standardize === false ? null : fitStandardizer(train.X);
  const X = st ? applyStandardizer(st, train.X) : train.X;
  const model = trainLogReg(X, train.y, {
    l2: opts.l2,
    classWeight: opts.classWeight ?? null,
    tol: opts.tol ?? 1e-9,
    ...(opts.init ? { init: opts.init } : {}),
  });
  return { layer, l2: opts.l2, standardizer: st, model };
}

/** Decision values (logits) of a trained probe. */
export function probeScores(p: TrainedProbe, X: Matrix): Float64Array {
  return decision(p.model, p.standardizer ? applyStandardizer(p.standardizer, X) : X);
}

export function probePredict(p: TrainedProbe, X: Matrix): Uint8Array {
  return Uint8Array.from(probeScores(p, X), (z) => (z > 0 ? 1 : 0));
}

export interface Candidate {
  layer: number | null;
  train: ProbeData;
  val: ProbeData;
}

export interface GridRow {
  layer: number | null;
  l2: number;
  trainAcc: number;
  valAcc: number;
  valAuroc: number;
}

export interface Selection {
  probe: TrainedProbe;
  best: GridRow;
  grid: GridRow[];
  /** Per layer, the row with its best λ (by the same rule), in candidate order. */
  perLayer: { row: GridRow; probe: TrainedProbe }[];
}

/** Orders rows best-first: val accuracy, then val AUROC, then larger λ, then earlier candidate. */
function better(a: GridRow, b: GridRow): boolean {
  if (a.valAcc !== b.valAcc) return a.valAcc > b.valAcc;
  const aa = Number.isNaN(a.valAuroc) ? -1 : a.valAuroc;
  const bb = Number.isNaN(b.valAuroc) ? -1 : b.valAuroc;
  if (aa !== bb) return aa > bb;
  return a.l2 > b.l2;
}

/**
 * Fits every (candidate layer × λ) and picks the best on validation only. Test / OOD data never enter.
 */
export function selectProbe(
  candidates: readonly Candidate[],
  opts: { l2Grid?: readonly number[]; classWeight?: LogRegOptions['classWeight']; standardize?: boolean; tol?: number } = {},
): Selection {
  if (candidates.length === 0) throw new Error('selectProbe: no candidates');
  const grid = opts.l2Grid ?? DEFAULT_L2_GRID;
  if (grid.length === 0) throw new Error('selectProbe: empty λ grid');
  const rows: GridRow[] = [];
  const perLayer: Selection['perLayer'] = [];
  let best: { row: GridRow; probe: TrainedProbe } | null = null;
  for (const c of candidates) {
    let layerBest: { row: GridRow; probe: TrainedProbe } | null = null;
    // Strongest regularisation first, each fit warm-started from the previous (a regularisation path);
    // rows are reported in grid order.
    const order = grid.map((l2, k) => ({ l2, k })).sort((a, b) => b.l2 - a.l2 || a.k - b.k);
    const fitted: { row: GridRow; probe: TrainedProbe }[] = new Array(grid.length);
    let prev: LogRegModel | null = null;
    for (const { l2, k } of order) {
      const probe = fitProbe(c.train, c.layer, {
        l2,
        classWeight: opts.classWeight,
        standardize: opts.standardize,
        tol: opts.tol,
        ...(prev ? { init: prev } : {}),
      });
      prev = probe.model;
      const trainPred = probePredict(probe, c.train.X);
      const valScore = probeScores(probe, c.val.X);
      const valPred = Uint8Array.from(valScore, (z) => (z > 0 ? 1 : 0));
      const row: GridRow = {
        layer: c.layer,
        l2,
        trainAcc: accuracy(c.train.y, trainPred),
        valAcc: accuracy(c.val.y, valPred),
        valAuroc: auroc(c.val.y, valScore),
      };
      fitted[k] = { row, probe };
    }
    for (const f of fitted) {
      rows.push(f.row);
      if (!layerBest || better(f.row, layerBest.row)) layerBest = f;
    }
    perLayer.push(layerBest!);
    if (!best || better(layerBest!.row, best.row)) best = layerBest!;
  }
  return { probe: best!.probe, best: best!.row, grid: rows, perLayer };
}

export function evaluateProbe(
  p: TrainedProbe,
  data: ProbeData,
  opts: { seed: number; resamples?: number; level?: number },
): MetricSet {
  const s = probeScores(p, data.X);
  return evaluateBinary(data.y, s, { ...opts, ...(data.groups ? { groups: data.groups } : {}) });
}
