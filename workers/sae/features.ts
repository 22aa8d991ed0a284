/** Feature ids written `L{layer}/{index}` (types.ts), and Neuronpedia links when the SAE has an id. */
import type { FeatureId, SaeMeta } from './types.js';

export function formatFeatureId(f: FeatureId): string {
  return `L${f.layer}/${f.index}`;
}

export function parseFeatureId(s: string): FeatureId {
  const m = /^L(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not a feature id (expected L{layer}/{index}, e.g. L12/345)`);
  return { layer: Number(m[1]), index: Number(m[2]) };
}

/** https://neuronpedia.org/{neuronpediaId}/{index}, or null when the SAE has no Neuronpedia id. */
export function neuronpediaUrl(meta: Pick<SaeMeta, 'neuronpediaId'>, index: number): string | null {
  return meta.neuronpediaId ? `https://neuronpedia.org/${meta.neuronpediaId}/${index}` : null;
}
