/**
 * Feature sets of every method at any K* from one attribution (the sweep reads prefixes of one ranking:
 * the pool's CosSim and ActDiff rankings and AP's per-layer lists are computed once at the largest K*), and
 * the clamp conditions a method gets for a set kind — the same rules as discovery's own evaluation.
 */
import type { AttributionResult } from '../attribution.js';
import type { Condition } from '../generate.js';
import type { PoolResult } from '../pool.js';
import { randomControl, selectAp, selectFeatures, selectionSkip } from '../selection.js';
import type { FeatureSet, FeatureSets, Lens } from '../types.js';
import type { DiscoveryParams, MethodKey } from '../pipeline.js';

export interface SuiteAttribution {
  /** Direction used for AS and the attribution's patched run. */
  direction: Float32Array;
  pool: PoolResult;
  attr: AttributionResult;
  /** ActDiff ranking (top max K*), null when ActDiff is not run. */
  actdiffRanking: FeatureSet | null;
}

/** Every method's sets at K* = k, keyed as discovery keys them (cossim_ap, cossim_ap_global, ap, ap_global, …). */
export async function methodSets(lens: Lens, sa: SuiteAttribution, k: number, P: DiscoveryParams): Promise<Record<string, FeatureSets>> {
  const sel = selectFeatures(sa.attr, { kStar: k, skipPrefix: selectionSkip(lens.codec, P.selectionPositions) });
  const out: Record<string, FeatureSets> = {
    cossim_ap: sel.local,
    cossim_ap_global: sel.global,
    cossim: { kind: 'global', sets: [sa.pool.cossim.slice(0, k)] },
  };
  if (P.methods.includes('ap')) {
    const ap = selectAp(sa.attr, { kStar: k, compatMisaligned: P.apCompatMisaligned });
    out.ap = ap.local;
    out.ap_global = ap.global;
  }
  if (P.methods.includes('actdiff') && sa.actdiffRanking) out.actdiff = { kind: 'global', sets: [sa.actdiffRanking.slice(0, k)] };
  out.random = await randomControl(lens, sel.local, P.seed);
  return out;
}

/** The shared (global) set of a method: its own global set, or the first k of its per-sample sets' union. */
export function globalSetOf(m: MethodKey, sets: Record<string, FeatureSets>, k: number): FeatureSets {
  const s = sets[m];
  if (!s) throw new Error(`no feature sets for method ${m}`);
  if (s.kind === 'global') return s;
  if (m === 'cossim_ap') return sets.cossim_ap_global;
  if (m === 'ap') return sets.ap_global;
  const seen = new Set<string>();
  const flat = s.sets.flat().filter((f) => {
    const key = `${f.layer}/${f.index}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { kind: 'global', sets: [flat.slice(0, k)] };
}

export const UNCLAMPED: ReadonlySet<MethodKey> = new Set<MethodKey>(['base', 'as']);

/** Condition of a method: base = none, AS = directional ablation, else the clamp of its sets. */
export function methodCondition(
  m: MethodKey,
  p: { sets?: FeatureSets; direction: Float32Array; edit: { mode: 'multiply'; c: number } | { mode: 'set'; v: number }; P: DiscoveryParams },
): Condition {
  if (m === 'base') return { kind: 'none' };
  if (m === 'as') return { kind: 'ablate', direction: p.direction, sites: p.P.ablationSites };
  if (!p.sets) throw new Error(`method ${m} needs feature sets`);
  return { kind: 'clamp', sets: p.sets, edit: p.edit, positions: p.P.clampPositions, path: p.P.clampPath };
}
