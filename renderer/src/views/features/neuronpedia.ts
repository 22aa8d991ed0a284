import { parseNeuronpediaId } from '../../../../common/neuronpedia';
import type { FeatureAnnotationVM } from '../types';

/** Neuronpedia URL for a feature id like `gemma-2-2b/12-gemmascope-res-65k/123`. */
export function neuronpediaUrl(id: string): string {
  return `https://www.neuronpedia.org/${id.split('/').map(encodeURIComponent).join('/')}`;
}

export interface NeuronpediaExplanation {
  key: string; // L{layer}/{index}
  description: string;
  /** Neuronpedia model id of the entry (`modelId`), when the export names it. */
  model?: string;
  /** The entry's source (`12-gemmascope-res-65k`), when the export names one (not just a layer number). */
  source?: string;
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
    const src = String(o.layer ?? '').trim();
    const model = typeof o.modelId === 'string' ? o.modelId : typeof o.model === 'string' ? o.model : undefined;
    out.push({ key: `L${Number(layerM[1])}/${index}`, description: desc, ...(model ? { model } : {}), ...(/^\d+$/.test(src) ? {} : { source: src }) });
  });
  return out;
}

/**
 * Refuse explanations that belong to another dictionary: for every layer whose SAE has a known Neuronpedia
 * id (`model/source`), an entry must name the same model (when it names one) and exactly the same source
 * (source set and width, e.g. `12-gemmascope-res-65k`, not `12-gemmascope-res-16k`). `expected` maps
 * layer → `model/source`. Throws naming the first mismatching entry.
 */
export function checkExplanationsMatch(list: NeuronpediaExplanation[], expected: ReadonlyMap<number, string>): void {
  list.forEach((e, k) => {
    const layer = Number(/^L(\d+)\//.exec(e.key)![1]);
    const want = expected.get(layer);
    if (!want) return;
    const [wantModel, wantSource] = want.split('/') as [string, string];
    const w = parseNeuronpediaId(want);
    const what = w ? `${wantModel} ${w.sourceSet} (width ${w.width})` : want;
    if (e.model && e.model !== wantModel) throw new Error(`entry ${k + 1} (${e.key}): model "${e.model}" is not this project's model "${wantModel}"`);
    if (!e.source) throw new Error(`entry ${k + 1} (${e.key}): names only a layer number, so its source set and width cannot be checked against ${what}; export with the source id (e.g. ${wantSource})`);
    if (e.source !== wantSource) {
      const g = parseNeuronpediaId(`${wantModel}/${e.source}`);
      throw new Error(`entry ${k + 1} (${e.key}): source "${e.source}"${g ? ` (${g.sourceSet}, width ${g.width})` : ''} is not this project's SAE for layer ${layer}: ${what}`);
    }
  });
}

/** layer → `model/source` from Neuronpedia feature ids such as `gemma-2-2b/12-gemmascope-res-65k/123`. */
export function expectedSources(ids: Iterable<string | undefined>): Map<number, string> {
  const out = new Map<number, string>();
  for (const id of ids) {
    const p = id ? parseNeuronpediaId(id) : null;
    if (p) out.set(p.layer, `${p.model}/${p.source}`);
  }
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
