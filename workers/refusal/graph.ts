/**
 * Feature graph (§2.12 with W2): nodes = selected features; edges upstream → downstream
 *  (a) by gradient × delta: edge(j→i) = Σ_b Σ_{us} ∂(Σ_{s∈mask} ḡ_dl,i[s]·f_dl,i[s]) / ∂f_ul,j[us] · Δ_ul,j[us],
 *      with the SAE features of every layer strictly between ul and dl detached (z_out = dec(sg(f)) + (z − dec(f)):
 *      same value, gradient through the error path only) — or no stop-gradient (total effect);
 *  (b) by clamp-and-measure: clamp an upstream feature (×c), relative drop of each downstream feature's
 *      masked mean activation.
 * Stored as a versioned JSON; exportable in the circuit-tracer / Neuronpedia graph layout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { neuronpediaSourceSet } from '../../common/neuronpedia.js';
import { FEATURE_GRAPH_KIND, FEATURE_GRAPH_VERSION } from '../../common/results/graph.js';
import '../engine/register-gradients.js';
import { hookNames, type HookFn, type Hooks } from '../model/types.js';
import type { Sae } from '../sae/types.js';
import type { AttributionResult } from './attribution.js';
import { chunks, leftPad, positionMask } from './batch.js';
import { prepareClamp } from './hooks.js';
import { decodeDiff, encodeDiff, sparseEncode, sparseSlice, stopGradientOf, type SparseSlice } from './sae-math.js';
import { checkAbort, type FeatureSet, type Lens, type StepCtx } from './types.js';

export interface GraphNode {
  id: string;
  layer: number;
  index: number;
  /** Selection score (mean attribution). */
  attribution: number;
  /** Top (sample, position, token) by attribution. */
  topPositions: Array<{ sample: number; position: number; token: number; value: number }>;
  neuronpediaId: string | null;
}

export interface GraphEdge {
  source: string;
  target: string;
  weight: number;
  method: 'gradient' | 'clamp';
}

/** graph.json; its schema (version 2) is common/results/graph.ts. */
export interface FeatureGraph {
  kind: typeof FEATURE_GRAPH_KIND;
  schemaVersion: typeof FEATURE_GRAPH_VERSION;
  nodes: GraphNode[];
  edges: GraphEdge[];
  params: { priorLayers: number; stopGradient: 'features' | 'none'; clampValue: number | null; samples: number };
}

export const nodeId = (l: number, i: number) => `L${l}/${i}`;

export interface GraphParams {
  attr: AttributionResult;
  nodes: FeatureSet;
  scores?: number[];
  priorLayers?: number;
  stopGradient?: 'features' | 'none';
  /** Clamp-and-measure multiplier (null: skip). */
  clampMeasure?: number | null;
  batchSize?: number;
  neuronpediaPrefix?: (layer: number) => string | null;
  /** Drop edges with |w| below this fraction of the largest |w| of their method (default 0). */
  relThreshold?: number;
}

function poolCol(attr: AttributionResult, l: number, i: number): number {
  const k = attr.pool[l]?.indexOf(i) ?? -1;
  if (k < 0) throw new Error(`graph node L${l}/${i} is not in the attribution pool`);
  return k;
}

/** [B,T] tensor of a pool quantity (poolGrad/poolDelta) for one feature, left-padded like the batch. */
function padded(
  attr: AttributionResult,
  which: 'poolGrad' | 'poolDelta',
  sIdx: number[],
  T: number,
  l: number,
  i: number,
  mask: number[][],
): tf.Tensor2D {
  const k = poolCol(attr, l, i);
  const K = attr.pool[l].length;
  const rows = sIdx.map((s, b) => {
    const a = attr.samples[s][which][l];
    const n = a.length / K;
    const r = new Array(T).fill(0);
    for (let t = 0; t < n; t++) r[T - n + t] = a[t * K + k] * mask[b][T - n + t];
    return r;
  });
  return tf.tensor2d(rows, [sIdx.length, T]);
}

export async function buildGraph(lens: Lens, p: GraphParams, ctx: StepCtx): Promise<FeatureGraph> {
  const attr = p.attr;
  const prior = p.priorLayers ?? 2;
  const sg = p.stopGradient ?? 'features';
  const nodes: GraphNode[] = p.nodes.map((f, n) => {
    const k = poolCol(attr, f.layer, f.index);
    const K = attr.pool[f.layer].length;
    const tops: GraphNode['topPositions'] = [];
    attr.samples.forEach((s, b) => {
      const a = s.poolAttr[f.layer];
      for (let t = lens.codec.skipPrefix; t < a.length / K; t++)
        tops.push({ sample: b, position: t, token: s.ids[t], value: a[t * K + k] });
    });
    tops.sort((x, y) => y.value - x.value);
    return {
      id: nodeId(f.layer, f.index),
      layer: f.layer,
      index: f.index,
      attribution: p.scores?.[n] ?? 0,
      topPositions: tops.slice(0, 5),
      neuronpediaId: p.neuronpediaPrefix?.(f.layer) ? `${p.neuronpediaPrefix(f.layer)}/${f.index}` : null,
    };
  });
  const byLayer = new Map<number, number[]>();
  for (const f of p.nodes) byLayer.set(f.layer, [...(byLayer.get(f.layer) ?? []), f.index]);
  const nodeLayers = [...byLayer.keys()].sort((a, b) => a - b);
  const edges: GraphEdge[] = [];
  const grad = new Map<string, number>();
  const batches = chunks(attr.samples.map((_, i) => i), p.batchSize ?? 8);
  const pairs: Array<[number, number]> = [];
  for (const [di, dl] of nodeLayers.entries())
    for (const ul of nodeLayers.slice(Math.max(0, di - prior), di)) pairs.push([ul, dl]);
  let done = 0;
  for (const [ul, dl] of pairs) {
    checkAbort(ctx);
    const upIdx = byLayer.get(ul)!;
    const dnIdx = byLayer.get(dl)!;
    const upSae = await lens.saes.get(ul);
    const up = sparseSlice(upSae, upIdx);
    lens.saes.release(upSae);
    const dnSae = await lens.saes.get(dl);
    const dn = sparseSlice(dnSae, dnIdx);
    lens.saes.release(dnSae);
    const mids: Sae[] = [];
    if (sg === 'features') for (const l of lens.saes.layers) if (l > ul && l < dl) mids.push(await lens.saes.get(l));
    try {
      for (const sIdx of batches) {
        const batch = leftPad(sIdx.map((s) => attr.samples[s].ids), lens.model.config.padTokenId);
        const B = sIdx.length, T = batch.T;
        const mask = positionMask(batch, lens.codec.skipPrefix);
        const deltaUp = upIdx.map((j) => padded(attr, 'poolDelta', sIdx, T, ul, j, mask)); // [B,T] each
        for (const [ki, i] of dnIdx.entries()) {
          const gDn = padded(attr, 'poolGrad', sIdx, T, dl, i, mask);
          const leaf = tf.zeros([B, T, upIdx.length]);
          const f = (d: tf.Tensor) => {
            const hooks: Array<{ point: string; fn: HookFn }> = [
              {
                point: hookNames.residPost(ul),
                fn: (act) => tf.add(act, tf.reshape(tf.matMul(tf.reshape(d, [B * T, upIdx.length]), up.W_dec), [B, T, -1])) as tf.Tensor3D,
              },
            ];
            for (const sae of mids)
              hooks.push({
                point: hookNames.residPost(sae.meta.layer),
                fn: (act) => {
                  const fz = encodeDiff(sae, act);
                  const recon = decodeDiff(sae, stopGradientOf((x) => x.clone(), fz));
                  return tf.add(recon, tf.sub(act, decodeDiff(sae, fz))) as tf.Tensor3D;
                },
              });
            let target: tf.Scalar | null = null;
            hooks.push({
              point: hookNames.residPost(dl),
              fn: (act) => {
                const fd = sparseEncode(dn, act); // [B,T,k]
                const col = tf.reshape(tf.slice(fd, [0, 0, ki], [B, T, 1]), [B, T]);
                target = tf.sum(tf.mul(col, gDn)) as tf.Scalar;
              },
            });
            const r = lens.model.forward(batch, { hooks: hooks as Hooks, stopAtLayer: dl, logits: false });
            for (const t of r.cache.values()) t.dispose();
            return target!;
          };
          const [g] = tf.grads(f)([leaf]);
          const w = tf.tidy(() => {
            const gs = tf.unstack(g, 2);
            return tf.stack(gs.map((gj, kj) => tf.sum(tf.mul(gj, deltaUp[kj]))));
          });
          const wd = w.dataSync();
          upIdx.forEach((j, kj) => {
            const key = `${nodeId(ul, j)}>${nodeId(dl, i)}`;
            grad.set(key, (grad.get(key) ?? 0) + wd[kj]);
          });
          [w, g, leaf, gDn].forEach((t) => t.dispose());
        }
        deltaUp.forEach((t) => t.dispose());
      }
    } finally {
      up.dispose();
      dn.dispose();
      for (const s of mids) lens.saes.release(s);
    }
    ctx.progress('graph edges', ++done / Math.max(1, pairs.length));
  }
  const N = Math.max(1, attr.samples.length);
  for (const [key, w] of grad) {
    const [source, target] = key.split('>');
    edges.push({ source, target, weight: w / N, method: 'gradient' });
  }
  if (p.clampMeasure !== null && p.clampMeasure !== undefined)
    edges.push(...(await clampMeasureEdges(lens, attr, p.nodes, byLayer, p.clampMeasure, p.batchSize ?? 8, ctx)));
  const th = p.relThreshold ?? 0;
  const kept = (['gradient', 'clamp'] as const).flatMap((m) => {
    const es = edges.filter((e) => e.method === m);
    const mx = Math.max(0, ...es.map((e) => Math.abs(e.weight)));
    return es.filter((e) => Math.abs(e.weight) > th * mx && e.weight !== 0);
  });
  return {
    kind: FEATURE_GRAPH_KIND,
    schemaVersion: FEATURE_GRAPH_VERSION,
    nodes,
    edges: kept,
    params: { priorLayers: prior, stopGradient: sg, clampValue: p.clampMeasure ?? null, samples: attr.samples.length },
  };
}

/** Masked mean activation of each node feature (layer → [k]) under optional hooks. */
export async function nodeActivations(
  lens: Lens,
  ids: number[][],
  slices: Map<number, SparseSlice>,
  extra: Hooks,
  batchSize: number,
  positions: 'mask' | { lastN: number } = 'mask',
): Promise<Map<number, Float64Array>> {
  const sums = new Map<number, Float64Array>();
  let count = 0;
  for (const ch of chunks(ids, batchSize)) {
    const batch = leftPad(ch, lens.model.config.padTokenId);
    const B = ch.length, T = batch.T;
    const m =
      positions === 'mask'
        ? positionMask(batch, lens.codec.skipPrefix)
        : batch.inputIds.map((r) => r.map((_, t) => (t >= T - positions.lastN ? 1 : 0)));
    const mt = tf.tensor3d(m.map((r) => r.map((x) => [x])), [B, T, 1]);
    const got = new Map<number, tf.Tensor>();
    const hooks: Array<{ point: string; fn: HookFn }> = [...extra];
    for (const [l, s] of slices)
      hooks.push({
        point: hookNames.residPost(l),
        fn: (act) => {
          got.set(l, tf.keep(tf.div(tf.sum(tf.mul(sparseEncode(s, act), mt), 1), tf.maximum(tf.sum(mt, 1), 1))));
        },
      });
    tf.tidy(() => {
      const r = lens.model.forward(batch, { hooks, logits: false, stopAtLayer: Math.max(...slices.keys()) });
      for (const t of r.cache.values()) t.dispose();
    });
    for (const [l, t] of got) {
      const a = t.dataSync(); // [B,k]
      const k = slices.get(l)!.indices.length;
      const acc = sums.get(l) ?? new Float64Array(k);
      for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) acc[j] += a[b * k + j];
      sums.set(l, acc);
      t.dispose();
    }
    mt.dispose();
    count += B;
  }
  for (const a of sums.values()) for (let j = 0; j < a.length; j++) a[j] /= Math.max(1, count);
  return sums;
}

async function clampMeasureEdges(
  lens: Lens,
  attr: AttributionResult,
  nodes: FeatureSet,
  byLayer: Map<number, number[]>,
  c: number,
  bs: number,
  ctx: StepCtx,
): Promise<GraphEdge[]> {
  const ids = attr.samples.map((s) => s.ids);
  const slices = new Map<number, SparseSlice>();
  for (const [l, idx] of byLayer) {
    const sae = await lens.saes.get(l);
    slices.set(l, sparseSlice(sae, idx));
    lens.saes.release(sae);
  }
  const edges: GraphEdge[] = [];
  try {
    const base = await nodeActivations(lens, ids, slices, [], bs);
    for (const [n, f] of nodes.entries()) {
      checkAbort(ctx);
      const down = new Map([...slices].filter(([l]) => l > f.layer));
      if (!down.size) continue;
      const sums = new Map<number, Float64Array>();
      let count = 0;
      for (const ch of chunks(ids, bs)) {
        const h = await prepareClamp(lens.saes, ch.map(() => [f]), { edit: { mode: 'multiply', c } });
        const a = await nodeActivations(lens, ch, down, h.hooks, ch.length);
        h.dispose();
        for (const [l, v] of a) {
          const acc = sums.get(l) ?? new Float64Array(v.length);
          for (let j = 0; j < v.length; j++) acc[j] += v[j] * ch.length;
          sums.set(l, acc);
        }
        count += ch.length;
      }
      for (const [l, v] of sums) {
        byLayer.get(l)!.forEach((i, j) => {
          const h = base.get(l)![j];
          const a = v[j] / count;
          if (h > 1e-8) edges.push({ source: nodeId(f.layer, f.index), target: nodeId(l, i), weight: (h - a) / h, method: 'clamp' });
        });
      }
      ctx.progress('clamp-and-measure', (n + 1) / nodes.length);
    }
  } finally {
    for (const s of slices.values()) s.dispose();
  }
  return edges;
}

export function upwardEdgeCount(g: FeatureGraph, method?: GraphEdge['method']): number {
  const layer = new Map(g.nodes.map((n) => [n.id, n.layer]));
  return g.edges.filter((e) => (!method || e.method === method) && e.weight > 0 && layer.get(e.source)! < layer.get(e.target)!).length;
}

/** feature_type of our nodes: residual-stream SAE features (circuit-tracer writes "cross layer transcoder" for CLT features). */
export const SAE_FEATURE_TYPE = 'residual sae feature';

export interface NeuronpediaGraphMeta {
  slug: string;
  /** Neuronpedia model id (e.g. "gemma-2-2b"): Neuronpedia reads scan as the model id. */
  scan: string;
  prompt: string;
  promptTokens: string[];
  /** The user's labels by feature key (L{layer}/{index}); they become each node's clerp. */
  labels?: Readonly<Record<string, string>>;
}

const nodeKey = (n: GraphNode) => `${n.layer}_${n.index}_${n.topPositions[0]?.position ?? 0}`;

/**
 * The circuit-tracer / Neuronpedia graph JSON (frontend/graph_models.py Model: metadata with slug, scan,
 * transcoder_list, prompt_tokens, prompt, node_threshold; qParams; nodes node_id/feature/layer/ctx_idx/
 * feature_type/jsNodeId/clerp/influence/activation; links source/target/weight), with
 * metadata.feature_details.neuronpedia_source_set when every node comes from one Neuronpedia source set.
 */
export function toNeuronpediaGraph(g: FeatureGraph, meta: NeuronpediaGraphMeta): Record<string, unknown> {
  const sets = new Set(g.nodes.map((n) => neuronpediaSourceSet(n.neuronpediaId?.replace(/\/\d+$/, ''))));
  const sourceSet = sets.size === 1 ? [...sets][0]! : null;
  return {
    metadata: {
      slug: meta.slug,
      scan: meta.scan,
      transcoder_list: [],
      prompt: meta.prompt,
      prompt_tokens: meta.promptTokens,
      node_threshold: null,
      schema_version: 1,
      ...(sourceSet ? { feature_details: { neuronpedia_source_set: sourceSet } } : {}),
      info: { creator_name: 'Refusal Workbench', generator: { name: 'refusal-workbench feature graph' } },
    },
    qParams: { pinnedIds: [], supernodes: [], linkType: 'both', clickedId: '', sg_pos: '' },
    nodes: g.nodes.map((n) => ({
      node_id: nodeKey(n),
      jsNodeId: `${n.layer}_${n.index}-0`,
      feature: n.index,
      layer: String(n.layer),
      ctx_idx: n.topPositions[0]?.position ?? 0,
      feature_type: SAE_FEATURE_TYPE,
      token_prob: 0,
      is_target_logit: false,
      run_idx: 0,
      reverse_ctx_idx: 0,
      clerp: meta.labels?.[n.id] ?? '',
      influence: n.attribution,
      activation: n.topPositions[0]?.value ?? 0,
    })),
    links: g.edges
      .filter((e) => e.method === 'gradient')
      .map((e) => {
        const byId = (s: string) => nodeKey(g.nodes.find((x) => x.id === s)!);
        return { source: byId(e.source), target: byId(e.target), weight: e.weight };
      }),
  };
}

// circuit-tracer's pydantic models (frontend/graph_models.py) plus Neuronpedia's graph-schema.json required fields
const CtNode = z
  .object({
    node_id: z.string(),
    feature: z.number().int().nullable(),
    layer: z.union([z.string(), z.number().int()]),
    ctx_idx: z.number().int(),
    feature_type: z.string(),
    jsNodeId: z.string(),
    clerp: z.string(),
    token_prob: z.number().optional(),
    is_target_logit: z.boolean().optional(),
    run_idx: z.number().int().optional(),
    reverse_ctx_idx: z.number().int().optional(),
    influence: z.number().nullable().optional(),
    activation: z.number().nullable().optional(),
  })
  .passthrough();
const CtGraph = z.object({
  metadata: z
    .object({ slug: z.string(), scan: z.string(), transcoder_list: z.array(z.string()), prompt_tokens: z.array(z.string()), prompt: z.string(), node_threshold: z.number().nullable().optional() })
    .passthrough(),
  qParams: z.object({ pinnedIds: z.array(z.string()), supernodes: z.array(z.array(z.string())), linkType: z.string(), clickedId: z.string(), sg_pos: z.string() }),
  nodes: z.array(CtNode),
  links: z.array(z.object({ source: z.string(), target: z.string(), weight: z.number() }).passthrough()),
});

export interface ImportedGraph {
  graph: FeatureGraph;
  scan: string;
  sourceSet: string | null;
  /** clerps that were set, by feature key. */
  labels: Record<string, string>;
  prompt: string;
  promptTokens: string[];
}

/**
 * Read a circuit-tracer / Neuronpedia graph JSON back (checked against circuit-tracer's models). Feature
 * nodes become graph nodes (with the Neuronpedia id rebuilt from scan + source set); embedding, error and
 * logit nodes are not SAE features and are skipped, as are links touching them.
 */
export function fromNeuronpediaGraph(json: unknown): ImportedGraph {
  const r = CtGraph.safeParse(json);
  if (!r.success) throw new Error(`not a circuit-tracer graph: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const d = r.data;
  const fd = (d.metadata as { feature_details?: { neuronpedia_source_set?: unknown } }).feature_details;
  const sourceSet = typeof fd?.neuronpedia_source_set === 'string' ? fd.neuronpedia_source_set : null;
  const labels: Record<string, string> = {};
  const byNodeId = new Map<string, string>();
  const nodes: GraphNode[] = [];
  for (const n of d.nodes) {
    if (n.feature_type !== SAE_FEATURE_TYPE && n.feature_type !== 'cross layer transcoder') continue;
    const layer = Number(n.layer);
    if (!Number.isInteger(layer) || n.feature === null) throw new Error(`node ${n.node_id}: feature node without an integer layer and feature`);
    const id = nodeId(layer, n.feature);
    byNodeId.set(n.node_id, id);
    if (n.clerp) labels[id] = n.clerp;
    nodes.push({
      id,
      layer,
      index: n.feature,
      attribution: n.influence ?? 0,
      topPositions: [{ sample: 0, position: n.ctx_idx, token: -1, value: n.activation ?? 0 }],
      neuronpediaId: sourceSet ? `${d.metadata.scan}/${layer}-${sourceSet}/${n.feature}` : null,
    });
  }
  const edges: GraphEdge[] = d.links
    .filter((l) => byNodeId.has(l.source) && byNodeId.has(l.target))
    .map((l) => ({ source: byNodeId.get(l.source)!, target: byNodeId.get(l.target)!, weight: l.weight, method: 'gradient' as const }));
  return {
    graph: { kind: FEATURE_GRAPH_KIND, schemaVersion: FEATURE_GRAPH_VERSION, nodes, edges, params: { priorLayers: 0, stopGradient: 'features', clampValue: null, samples: 0 } },
    scan: d.metadata.scan,
    sourceSet,
    labels,
    prompt: d.metadata.prompt,
    promptTokens: d.metadata.prompt_tokens,
  };
}
