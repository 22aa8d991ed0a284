/**
 * Many SAE layers, loaded lazily: headers are read up front (memory estimate, metadata), weights only
 * when a layer is asked for, and layers can be dropped again. `stream` walks the layers holding one at a
 * time (METHOD "Exact shortcuts" S2–S4: the model plus one SAE layer resident); `slice` loads only some
 * features of a layer from disk (S1 clamps); `decoderChunks` streams decoder rows (S3 cosine pool).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError } from '../engine/errors.js';
import { resolveHfPath } from '../engine/io/hf-cache.js';
import { detectLayout, openSae, scanGemmaScopeTree, type LoadSaeOptions, type SaeSource } from './load.js';
import { encodeSlice, type SaeSlice, type TfSae } from './sae.js';
import type { SaeMeta } from './types.js';

export interface SaeSetOptions extends LoadSaeOptions {
  /** Keep at most this many layers loaded (least recently used dropped first). Default: no limit. */
  maxResident?: number;
}

export type SaeSetSpec = string | ReadonlyArray<{ layer: number; path: string }> | Readonly<Record<number, string>>;

export class SaeSet {
  private readonly paths = new Map<number, string>();
  private readonly sources = new Map<number, SaeSource>();
  private readonly resident = new Map<number, TfSae>();
  private readonly pickNotes = new Map<number, string>();
  /** Choices made while resolving (tree L0 picks). */
  readonly notes: string[] = [];

  private constructor(private readonly opts: SaeSetOptions) {}

  /**
   * A gemma-scope tree (one file per layer picked by target L0), a folder of per-layer SAE folders
   * (e.g. Llama Scope L{l}R-8x), a single SAE, or an explicit layer → path map.
   */
  static open(spec: SaeSetSpec, opts: SaeSetOptions = {}): SaeSet {
    const set = new SaeSet(opts);
    if (typeof spec === 'string') spec = resolveHfPath(spec).path; // HF cache repo root / snapshot
    if (typeof spec !== 'string') {
      const entries = Array.isArray(spec)
        ? (spec as ReadonlyArray<{ layer: number; path: string }>)
        : Object.entries(spec as Record<number, string>).map(([l, p]) => ({ layer: Number(l), path: p }));
      for (const e of entries) set.paths.set(e.layer, e.path);
      return set;
    }
    let layout: ReturnType<typeof detectLayout> | null = null;
    try {
      layout = opts.format ?? detectLayout(spec);
    } catch (e) {
      if (!(e instanceof FileFormatError) || !fs.existsSync(spec) || !fs.statSync(spec).isDirectory()) throw e;
    }
    if (layout === 'gemmascope-tree') {
      for (const c of scanGemmaScopeTree(spec, opts)) {
        set.paths.set(c.layer, c.file);
        const note = Number.isNaN(c.l0)
          ? `layer ${c.layer}: canonical dictionary (width ${c.width})`
          : `layer ${c.layer}: picked average_l0_${c.l0} (width ${c.width}; closest to target L0 ${opts.targetL0 ?? 100} among ${c.available.join(', ')})`;
        set.notes.push(note);
        set.pickNotes.set(c.layer, note);
      }
      return set;
    }
    if (layout) {
      const src = openSae(spec, { ...opts, format: layout });
      set.paths.set(src.meta.layer, spec);
      set.sources.set(src.meta.layer, src);
      return set;
    }
    // A folder of SAE folders: open each one's headers to learn its layer.
    for (const name of fs.readdirSync(spec).sort()) {
      const p = path.join(spec, name);
      let src: SaeSource;
      try {
        src = openSae(p, { ...opts, layer: undefined });
      } catch {
        continue;
      }
      if (src.meta.layer < 0) {
        src.close();
        continue;
      }
      if (set.paths.has(src.meta.layer)) {
        src.close();
        throw new FileFormatError(p, `a second SAE for layer ${src.meta.layer} (first: ${set.paths.get(src.meta.layer)})`);
      }
      set.paths.set(src.meta.layer, p);
      set.sources.set(src.meta.layer, src);
    }
    if (!set.paths.size) throw new FileFormatError(spec, 'no SAE found in this folder or its sub-folders');
    return set;
  }

  get layers(): number[] {
    return [...this.paths.keys()].sort((a, b) => a - b);
  }

  has(layer: number): boolean {
    return this.paths.has(layer);
  }

  /** The layer's source (headers only). */
  source(layer: number): SaeSource {
    let s = this.sources.get(layer);
    if (!s) {
      const p = this.paths.get(layer);
      if (p === undefined) throw new Error(`no SAE for layer ${layer} (have ${this.layers.join(', ')})`);
      s = openSae(p, { ...this.opts, layer });
      const note = this.pickNotes.get(layer);
      if (note) s.meta.notes.unshift(note);
      this.sources.set(layer, s);
    }
    return s;
  }

  meta(layer: number): SaeMeta {
    return this.source(layer).meta;
  }

  /** float32 bytes of the given layers (default all) once loaded, from headers. */
  estimateBytes(layers: number[] = this.layers): number {
    return layers.reduce((a, l) => a + this.source(l).estimateBytes(), 0);
  }

  /** The largest single layer (what streaming needs resident). */
  maxLayerBytes(): number {
    return Math.max(0, ...this.layers.map((l) => this.source(l).estimateBytes()));
  }

  isResident(layer: number): boolean {
    return this.resident.has(layer);
  }

  residentLayers(): number[] {
    return [...this.resident.keys()];
  }

  residentBytes(): number {
    return [...this.resident.values()].reduce((a, s) => a + s.weightBytes(), 0);
  }

  /** Load on demand (kept until dropped or evicted). */
  get(layer: number): TfSae {
    const have = this.resident.get(layer);
    if (have) {
      this.resident.delete(layer);
      this.resident.set(layer, have); // most recently used last
      return have;
    }
    const max = this.opts.maxResident;
    if (max !== undefined) {
      while (this.resident.size >= Math.max(1, max)) this.drop(this.resident.keys().next().value as number);
    }
    const sae = this.source(layer).load();
    this.resident.set(layer, sae);
    return sae;
  }

  drop(layer: number): void {
    const s = this.resident.get(layer);
    if (s) {
      s.dispose();
      this.resident.delete(layer);
    }
  }

  dropAll(): void {
    for (const l of [...this.resident.keys()]) this.drop(l);
  }

  /** Only these features of a layer (from the resident SAE if loaded, else from disk). */
  slice(layer: number, indices: number[]): SaeSlice {
    return this.source(layer).loadSlice(indices);
  }

  /**
   * Visit layers one at a time with only that layer loaded: a layer that was not resident before is
   * dropped when `fn` settles.
   */
  async forEachLayer<T>(fn: (sae: TfSae, layer: number) => T | Promise<T>, layers: number[] = this.layers): Promise<Map<number, T>> {
    const out = new Map<number, T>();
    for (const l of layers) {
      const was = this.isResident(l);
      const sae = this.get(l);
      try {
        out.set(l, await fn(sae, l));
      } finally {
        if (!was) this.drop(l);
      }
    }
    return out;
  }

  /** Decoder rows of a layer in chunks [r0, r0 + rows) without loading the layer (S3 streaming). */
  *decoderChunks(layer: number, chunkRows = 4096): Generator<{ r0: number; rows: number; W_dec: tf.Tensor2D }> {
    const src = this.source(layer);
    const { dSae, dIn } = src.meta;
    for (let r0 = 0; r0 < dSae; r0 += chunkRows) {
      const r1 = Math.min(dSae, r0 + chunkRows);
      const W_dec = tf.tensor2d(src.readDecoderRows(r0, r1), [r1 - r0, dIn]);
      try {
        yield { r0, rows: r1 - r0, W_dec };
      } finally {
        W_dec.dispose();
      }
    }
  }

  /**
   * A layer's features in contiguous chunks, each a slice with its encoder columns and decoder rows,
   * read from disk without loading the layer (exact chunk-wise encoding for JumpReLU/ReLU; see
   * `encodeSlice`). Each slice is disposed when the loop moves on.
   */
  *featureChunks(layer: number, chunkFeatures = 4096): Generator<SaeSlice> {
    const src = this.source(layer);
    for (let f0 = 0; f0 < src.meta.dSae; f0 += chunkFeatures) {
      const slice = src.loadRange(f0, Math.min(src.meta.dSae, f0 + chunkFeatures));
      try {
        yield slice;
      } finally {
        slice.dispose();
      }
    }
  }

  /**
   * f for every feature of a layer, encoded chunk by chunk from disk (the layer is never loaded whole):
   * x [N, dIn] → [N, dSae]. Exact for JumpReLU/ReLU; a resident layer is used directly.
   */
  encodeStreamed(layer: number, x: tf.Tensor2D, chunkFeatures = 4096): tf.Tensor2D {
    const have = this.resident.get(layer);
    if (have) return have.encode(x) as tf.Tensor2D;
    const parts: tf.Tensor[] = [];
    try {
      for (const slice of this.featureChunks(layer, chunkFeatures)) parts.push(encodeSlice(slice, x));
      return tf.concat(parts, 1) as tf.Tensor2D;
    } finally {
      tf.dispose(parts);
    }
  }

  /**
   * g·W_decᵀ for every feature (the AP projection of a stream gradient, or cosines with normalised
   * inputs), streamed in decoder chunks: g [N, dIn] → [N, dSae].
   */
  decoderProjection(layer: number, g: tf.Tensor2D, chunkRows = 4096): tf.Tensor2D {
    const have = this.resident.get(layer);
    if (have) return tf.matMul(g, have.W_dec, false, true);
    const parts: tf.Tensor[] = [];
    try {
      for (const c of this.decoderChunks(layer, chunkRows)) parts.push(tf.matMul(g, c.W_dec, false, true));
      return tf.concat(parts, 1) as tf.Tensor2D;
    } finally {
      tf.dispose(parts);
    }
  }

  close(): void {
    this.dropAll();
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
  }
}
