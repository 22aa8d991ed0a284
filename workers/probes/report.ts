/**
 * Building probe results from a selection and its OOD metrics. The report's schema and every writer (JSON,
 * CSV, Markdown, HTML, SVG) live in common/results/probe-report.ts, re-exported here.
 */
import type { MetricSet } from './metrics.js';
import type { Selection } from './train.js';
import { ProbeResultSchema, type ProbeLayerPoint, type ProbeResult } from '../../common/results/probe-report.js';

export * from '../../common/results/probe-report.js';

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * A ProbeResult from a selection (validation-chosen probe) and its OOD evaluation; `perLayerOod` gives,
 * per selection.perLayer entry, that layer probe's OOD metrics (for the figure).
 */
export function probeResultFrom(args: {
  name: string;
  features: string;
  selection: Selection;
  ood: MetricSet;
  perLayerOod?: ReadonlyArray<MetricSet | null>;
  nTrain?: number;
  nVal?: number;
}): ProbeResult {
  const { selection: s, ood } = args;
  const per_group: ProbeResult['per_group'] = {};
  for (const [g, v] of Object.entries(ood.perGroup)) per_group[g] = { acc: fin(v.acc), n: v.n, lo: fin(v.lo), hi: fin(v.hi) };
  const per_layer: ProbeLayerPoint[] = [];
  s.perLayer.forEach((pl, k) => {
    if (pl.row.layer === null) return;
    const m = args.perLayerOod?.[k] ?? null;
    per_layer.push({
      layer: pl.row.layer,
      l2: pl.row.l2,
      val_acc: fin(pl.row.valAcc),
      ood_acc: m ? fin(m.accuracy.value) : null,
      ...(m ? { ood_acc_ci: [fin(m.accuracy.lo), fin(m.accuracy.hi)] as [number | null, number | null] } : {}),
    });
  });
  return ProbeResultSchema.parse({
    name: args.name,
    features: args.features,
    layer: s.best.layer,
    l2: s.best.l2,
    val_acc: fin(s.best.valAcc),
    ood_acc: fin(ood.accuracy.value),
    ood_acc_ci: [fin(ood.accuracy.lo), fin(ood.accuracy.hi)],
    auroc: fin(ood.auroc.value),
    auroc_ci: [fin(ood.auroc.lo), fin(ood.auroc.hi)],
    f1: fin(ood.f1.value),
    f1_ci: [fin(ood.f1.lo), fin(ood.f1.hi)],
    balanced_acc: fin(ood.balancedAccuracy.value),
    balanced_acc_ci: [fin(ood.balancedAccuracy.lo), fin(ood.balancedAccuracy.hi)],
    per_group,
    per_layer,
    ...(args.nTrain !== undefined ? { n_train: args.nTrain } : {}),
    ...(args.nVal !== undefined ? { n_val: args.nVal } : {}),
    n_ood: ood.n,
  });
}

