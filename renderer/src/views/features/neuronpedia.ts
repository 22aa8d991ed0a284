import type { FeatureAnnotationVM } from '../types';

/** Neuronpedia URL for a feature id like `gemma-2-2b/12-gemmascope-res-65k/123`. */
export function neuronpediaUrl(id: string): string {
  return `https://www.neuronpedia.org/${id.split('/').map(encodeURIComponent).join('/')}`;
}

export interface NeuronpediaExplanation {
  key: string; // L{layer}/{index}
  description: string;
}

/**
 * Parse a Neuronpedia explanations export: a JSON array (or `{explanations: [...]}`) of objects with
 * `layer` ("12-gemmascope-res-65k" or 12), `index`, and `description` (or `explanation`); JSONL works too.
 * Throws with the entry number when an entry has no layer/index/description.
 */
export function parseNeuronpediaExport(text: string): NeuronpediaExplanation[] {
  let items: unknown[];
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{"explanations"')) {
    const v = JSON.parse(t) as unknown;
    items = Array.isArray(v) ? v : ((v as { explanations?: unknown[] }).explanations ?? []);
  } else {
    items = t.split(/\r?\n/).filter((l) => l.trim()).map((l, k) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        throw new Error(`line ${k + 1}: not JSON`);
      }
    });
  }
  const out: NeuronpediaExplanation[] = [];
  items.forEach((raw, k) => {
    const o = raw as Record<string, unknown>;
    const layerM = /^(\d+)/.exec(String(o.layer ?? ''));
    const index = Number(o.index ?? o.feature);
    const desc = String(o.description ?? o.explanation ?? '').trim();
    if (!layerM || !Number.isInteger(index) || !desc) throw new Error(`entry ${k + 1}: expected layer, index and description`);
    out.push({ key: `L${Number(layerM[1])}/${index}`, description: desc });
  });
  return out;
}

/** Merge imported explanations: fill empty labels; keep the user's own labels, append to notes instead. */
export function mergeExplanation(prev: FeatureAnnotationVM | undefined, desc: string): FeatureAnnotationVM {
  const p = prev ?? { label: '', notes: '', tags: [] };
  if (!p.label.trim()) return { ...p, label: desc, tags: p.tags.includes('neuronpedia') ? p.tags : [...p.tags, 'neuronpedia'] };
  if (p.label === desc || p.notes.includes(desc)) return p;
  return { ...p, notes: `${p.notes}${p.notes ? '\n' : ''}Neuronpedia: ${desc}` };
}

/** Annotation search over id, label, notes and tags. */
export function annotationMatches(key: string, a: FeatureAnnotationVM | undefined, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (!s) return true;
  return (
    key.toLowerCase().includes(s) ||
    (a?.label ?? '').toLowerCase().includes(s) ||
    (a?.notes ?? '').toLowerCase().includes(s) ||
    (a?.tags ?? []).some((t) => t.toLowerCase().includes(s))
  );
}
