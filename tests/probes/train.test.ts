import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../common/suites/ops.js';
import { evaluateProbe, probePredict, selectProbe, type Candidate } from '../../workers/probes/train.js';

function gauss(rnd: () => number) {
  return Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-300))) * Math.cos(2 * Math.PI * rnd());
}

/** Layer k carries signal strength k (layer 0: none); 3 features each. */
function layered(seed: number, n: number, layers: number) {
  const rnd = mulberry32(seed);
  const y = Array.from({ length: n }, (_, i) => i % 2);
  const X = Array.from({ length: layers }, (_, l) =>
    y.map((v) => [gauss(rnd) + (v ? l : -l) * 0.5, gauss(rnd), gauss(rnd) * 10 + 100]),
  );
  return { y, X };
}

describe('probe selection', () => {
  it('chooses layer and λ on validation only, deterministically', () => {
    const tr = layered(1, 80, 4);
    const va = layered(2, 40, 4);
    const cands: Candidate[] = [0, 1, 2, 3].map((l) => ({ layer: l, train: { X: tr.X[l]!, y: tr.y }, val: { X: va.X[l]!, y: va.y } }));
    const a = selectProbe(cands, { l2Grid: [1e-3, 1e-1] });
    const b = selectProbe(cands, { l2Grid: [1e-3, 1e-1] });
    expect(a.best).toEqual(b.best);
    expect(a.grid.length).toBe(8);
    expect(a.perLayer.map((p) => p.row.layer)).toEqual([0, 1, 2, 3]);
    expect(a.best.layer).toBe(3);
    expect(a.best.valAcc).toBeGreaterThan(0.85);
    expect(a.perLayer[0]!.row.valAcc).toBeLessThan(0.75);
    // The winner is the argmax of validation accuracy over the grid.
    expect(a.best.valAcc).toBe(Math.max(...a.grid.map((r) => r.valAcc)));
    // OOD evaluation afterwards, with groups.
    const te = layered(3, 40, 4);
    const m = evaluateProbe(a.probe, { X: te.X[3]!, y: te.y, groups: te.y.map((_, i) => (i < 20 ? 'adv' : 'van')) }, { seed: 0, resamples: 200 });
    expect(m.accuracy.value).toBeGreaterThan(0.8);
    expect(Object.keys(m.perGroup)).toEqual(['adv', 'van']);
    expect(probePredict(a.probe, te.X[3]!).length).toBe(40);
  });
});
