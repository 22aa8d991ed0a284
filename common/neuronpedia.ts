/**
 * Neuronpedia ids exactly as Neuronpedia (and SAELens's pretrained_saes.yaml `neuronpedia:` fields) write
 * them: `{modelId}/{layer}-{release}-{site}-{width}[__l0-{k}]`, e.g. `gemma-2-2b/12-gemmascope-res-65k`,
 * `gemma-2-2b/5-gemmascope-res-16k__l0-143`, `llama3.1-8b/7-llamascope-res-131k`.
 *   - source    = `{layer}-{release}-{site}-{width}[__l0-{k}]`, the part after the model id;
 *   - source set = the source without the leading `{layer}-` (what a graph's
 *     metadata.feature_details.neuronpedia_source_set names, e.g. `gemmascope-res-65k`);
 *   - width: d_sae as Neuronpedia abbreviates it (16384 → 16k, 32768 → 32k, 65536 → 65k, 131072 → 131k,
 *     262144 → 262k, 524288 → 524k, 1048576 → 1m): thousands rounded down, millions as "m".
 *   - Gemma Scope: only the canonical dictionary of a (layer, width) has the bare id; the other L0s
 *     carry `__l0-{k}`.
 * Shared by the workers (loaders, graph export) and the renderer (explanation import).
 */

export type NeuronpediaSite = 'res' | 'mlp' | 'att';

export interface NeuronpediaSourceParts {
  /** Neuronpedia model id, e.g. "gemma-2-2b", "llama3.1-8b", "gemma-2-9b-it". */
  model: string;
  layer: number;
  /** Release family, e.g. "gemmascope", "llamascope". */
  release: string;
  site: NeuronpediaSite;
  /** Width label ("65k") or d_sae (65536). */
  width: string | number;
  /** Gemma Scope non-canonical L0 (null/undefined: the canonical, bare id). */
  l0?: number | null;
}

/** d_sae → Neuronpedia's width label. */
export function widthLabel(dSae: number): string {
  if (!Number.isInteger(dSae) || dSae <= 0) throw new RangeError(`d_sae must be a positive integer, got ${dSae}`);
  if (dSae >= 1_000_000) return `${Math.floor(dSae / 1_000_000)}m`;
  if (dSae >= 1000) return `${Math.floor(dSae / 1000)}k`;
  return String(dSae);
}

/** Gemma Scope folder width ("width_65k" or "65k") → d_sae (65536). */
export function widthToDSae(label: string): number | null {
  const m = /^(?:width_)?(\d+)(k|m)?$/.exec(label.trim());
  if (!m) return null;
  const n = Number(m[1]);
  if (m[2] === 'm') return n * 2 ** 20;
  if (m[2] === 'k') {
    // Gemma Scope widths are powers of two: 4k 16k 32k 65k 131k 262k 524k → 2^12 … 2^19
    const p = Math.round(Math.log2(n * 1000));
    return widthLabel(2 ** p) === `${n}k` ? 2 ** p : n * 1000;
  }
  return n;
}

const SOURCE_RE = /^(\d+)-([a-z0-9.]+(?:-[a-z0-9.]+)*?)-(res|mlp|att)-(\d+(?:k|m)?)(?:__l0-(\d+))?$/;

/** `{model}/{layer}-{release}-{site}-{width}[__l0-{k}]`. */
export function neuronpediaSourceId(p: NeuronpediaSourceParts): string {
  if (!p.model || /[/\s]/.test(p.model)) throw new Error(`bad Neuronpedia model id "${p.model}"`);
  if (!Number.isInteger(p.layer) || p.layer < 0) throw new RangeError(`bad layer ${p.layer}`);
  const width = typeof p.width === 'number' ? widthLabel(p.width) : p.width.replace(/^width_/, '');
  const l0 = p.l0 === null || p.l0 === undefined ? '' : `__l0-${p.l0}`;
  return `${p.model}/${p.layer}-${p.release}-${p.site}-${width}${l0}`;
}

export interface ParsedNeuronpediaId {
  model: string;
  /** `{layer}-{release}-{site}-{width}[__l0-{k}]` */
  source: string;
  /** The source without its layer: `{release}-{site}-{width}[__l0-{k}]`. */
  sourceSet: string;
  layer: number;
  release: string;
  site: NeuronpediaSite;
  width: string;
  l0: number | null;
  /** Feature index when the id names one feature (`…/123`). */
  index: number | null;
}

/**
 * Parse `model/source[/index]`. Returns null for ids that do not follow the `{layer}-{release}-{site}-{width}`
 * scheme (older sources such as `gemma-2b/12-res-jb` are valid Neuronpedia ids but carry no site/width).
 */
export function parseNeuronpediaId(id: string): ParsedNeuronpediaId | null {
  const parts = id.trim().split('/');
  if (parts.length < 2 || parts.length > 3) return null;
  const [model, source, idx] = parts as [string, string, string | undefined];
  const m = SOURCE_RE.exec(source);
  if (!model || !m) return null;
  if (idx !== undefined && !/^\d+$/.test(idx)) return null;
  return {
    model,
    source,
    sourceSet: source.slice(m[1]!.length + 1),
    layer: Number(m[1]),
    release: m[2]!,
    site: m[3] as NeuronpediaSite,
    width: m[4]!,
    l0: m[5] !== undefined ? Number(m[5]) : null,
    index: idx !== undefined ? Number(idx) : null,
  };
}

/** The source set of a full source id (`gemma-2-2b/12-gemmascope-res-65k` → `gemmascope-res-65k`), or null. */
export function neuronpediaSourceSet(id: string | null | undefined): string | null {
  return id ? (parseNeuronpediaId(id)?.sourceSet ?? null) : null;
}

/** The model id part of a Neuronpedia id. */
export function neuronpediaModel(id: string | null | undefined): string | null {
  if (!id) return null;
  const m = id.split('/')[0];
  return m ? m : null;
}
