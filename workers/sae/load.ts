/**
 * SAE loaders behind one registry. `openSae` reads headers only (shapes, config) and returns a
 * `SaeSource`: a memory estimate, a full load, or a load of only some features (S1 clamp) / some decoder
 * rows (S3 streaming). Every input normalisation is folded on read, exactly as SAELens 6.18 does:
 *   - Gemma Scope params.npz: keys as-is, jumprelu, no normalisation, no b_dec subtraction.
 *   - SAELens folder (cfg.json + sae_weights.safetensors): standard(relu) / jumprelu / topk;
 *     normalize_activations "expected_average_only_in" folds a norm scaling factor f
 *     (W_enc·f, W_dec/f, b_dec/f) that cfg.json does not hold: option `normScalingFactor`.
 *   - Llama Scope native (hyperparams.json + checkpoints/final.safetensors): W_enc = encoder.weightᵀ,
 *     W_dec = decoder.weightᵀ, scalar threshold; s = √d_model / dataset_average_activation_norm.in folded
 *     like SAELens; threshold θ·s (corrected, SAELens ≥ 5.10.3, default) or θ (legacy 5.5.2; W11).
 *   - gemma-scope-* trees (layer_{l}/width_{w}/average_l0_{k}/params.npz): per layer the L0 closest to
 *     a target (default 100) is picked and reported in meta.notes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileFormatError } from '../engine/errors.js';
import { LogicalMatrix, openNpzContainer, openSafetensorsContainer, type RawArray, type RawContainer } from './source.js';
import { TfSae, makeSlice, type SaeArrays, type SaeSlice } from './sae.js';
import type { SaeArchitecture, SaeFormat, SaeMeta } from './types.js';
import { FILE_LIMITS, readUserJson } from '../engine/io/user-file.js';
import { parseSaeLensConfig, roundToDtype, type SaeDtype } from './saelens-config.js';
import { neuronpediaSourceId } from '../../common/neuronpedia.js';
import { resolveHfPath } from '../engine/io/hf-cache.js';
import { registryEntryFor, registryLoadOptions } from './releases.js';

export type SaeLayout = SaeFormat | 'gemmascope-tree';

export interface LoadSaeOptions {
  /** Name the layout instead of detecting it. */
  format?: SaeLayout;
  /** Layer to pick from a gemma-scope tree (required there); overrides the layer of a single file. */
  layer?: number;
  /** Hook point override (Gemma Scope params.npz holds none; default blocks.{layer}.hook_resid_post). */
  hookPoint?: string;
  /** gemma-scope tree: width folder ("16k", "65k", or "width_16k"); default: the only one present. */
  width?: string;
  /** gemma-scope tree: target average L0 (default 100). */
  targetL0?: number;
  /** SAELens expected_average_only_in: the norm scaling factor f (Llama Scope native: overrides s). */
  normScalingFactor?: number;
  /** Llama Scope threshold rule (W11): 'corrected' θ·s (default) or 'legacy' θ (SAELens ≤ 5.10.2). */
  llamaScopeThreshold?: 'corrected' | 'legacy';
  /** Neuronpedia source id to report (e.g. from the release registry), instead of the one derived from files. */
  neuronpediaId?: string | null;
  /** Model d_model: refuse an SAE whose d_in differs. */
  expectDModel?: number;
  /** Scan loaded weights for NaN/Inf (default true). */
  checkFinite?: boolean;
}

/** An SAE on disk, opened from headers only. */
export interface SaeSource {
  readonly meta: SaeMeta;
  /** The files it reads. */
  readonly files: string[];
  /** float32 bytes of the loaded SAE (from headers). */
  estimateBytes(): number;
  /** Load every weight. */
  load(): TfSae;
  /** Load only these features' encoder columns, biases, thresholds and decoder rows. */
  loadSlice(indices: number[]): SaeSlice;
  /**
   * Features [f0, f1) as a slice: contiguous reads of their encoder columns and decoder rows. For
   * JumpReLU/ReLU SAEs a feature depends only on its own column, so encoding chunk by chunk is exact —
   * full-width attribution or ActDiff with a fraction of one SAE resident (not for TopK).
   */
  loadRange(f0: number, f1: number): SaeSlice;
  /** Decoder rows [r0, r1), folded, [r1 − r0, dIn] C order (streamed from disk). */
  readDecoderRows(r0: number, r1: number): Float32Array;
  close(): void;
}

// -------------------------------------------------------------------------------------- helpers

function readJson(file: string): Record<string, unknown> {
  const v = readUserJson(file, { maxBytes: FILE_LIMITS.config, what: path.basename(file) });
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FileFormatError(file, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

export function detectLayout(p: string): SaeLayout {
  if (!exists(p)) throw new FileFormatError(p, 'no such file or folder');
  if (!isDir(p)) {
    if (p.endsWith('.npz')) return 'gemmascope';
    if (path.basename(p) === 'cfg.json' || p.endsWith('.safetensors')) {
      if (exists(path.join(path.dirname(p), 'cfg.json'))) return 'saelens';
      if (exists(path.join(path.dirname(p), '..', 'hyperparams.json'))) return 'llamascope';
    }
    if (path.basename(p) === 'hyperparams.json') return 'llamascope';
    throw new FileFormatError(p, 'not a recognised SAE file (expected params.npz, a SAELens folder, a Llama Scope folder or a gemma-scope tree)');
  }
  if (exists(path.join(p, 'params.npz'))) return 'gemmascope';
  if (exists(path.join(p, 'cfg.json'))) return 'saelens';
  if (exists(path.join(p, 'hyperparams.json'))) return 'llamascope';
  if (fs.readdirSync(p).some((n) => /^layer_\d+$/.test(n))) return 'gemmascope-tree';
  throw new FileFormatError(p, 'folder holds no params.npz, cfg.json, hyperparams.json or layer_* folders: not an SAE');
}

function folderOf(p: string): string {
  return isDir(p) ? p : path.dirname(p);
}

function layerFromHook(hook: string): number | null {
  const m = /blocks\.(\d+)\./.exec(hook);
  return m ? Number(m[1]) : null;
}

function need(c: RawContainer, name: string, what: string): RawArray {
  if (!c.has(name)) throw new FileFormatError(c.file, `missing ${what} "${name}" (has: ${c.names().join(', ')})`);
  return c.get(name);
}

function checkShape(a: RawArray, shape: number[], what: string): void {
  if (a.shape.length !== shape.length || a.shape.some((x, i) => x !== shape[i])) {
    throw new FileFormatError(a.file, `${what} "${a.name}" has shape [${a.shape}], expected [${shape}]`);
  }
}

function checkFinite(file: string, name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new FileFormatError(file, `${name} holds ${a[i]} at flat index ${i} (NaN/Inf weights)`);
  }
}

/** The pieces every format maps to. */
interface Plan {
  meta: SaeMeta;
  files: string[];
  containers: RawContainer[];
  W_enc: LogicalMatrix; // [dIn, dSae]
  W_dec: LogicalMatrix; // [dSae, dIn]
  b_enc: () => Float32Array;
  b_dec: () => Float32Array;
  threshold: (() => Float32Array) | null;
  checkFinite: boolean;
}

function vec(a: RawArray, scale = 1, dtype: SaeDtype = 'float32'): () => Float32Array {
  return () => {
    const v = roundToDtype(a.readAll(), dtype);
    if (scale !== 1) {
      const s = Math.fround(scale);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! * s;
    }
    return v;
  };
}

function validate(plan: Plan, opts: LoadSaeOptions): void {
  const { meta } = plan;
  if (plan.W_enc.rows !== meta.dIn || plan.W_enc.cols !== meta.dSae) {
    throw new FileFormatError(plan.W_enc.raw.file, `encoder "${plan.W_enc.raw.name}" is [${plan.W_enc.raw.shape}], not consistent with d_in ${meta.dIn}, d_sae ${meta.dSae}`);
  }
  if (plan.W_dec.rows !== meta.dSae || plan.W_dec.cols !== meta.dIn) {
    throw new FileFormatError(plan.W_dec.raw.file, `decoder "${plan.W_dec.raw.name}" is [${plan.W_dec.raw.shape}], not consistent with d_sae ${meta.dSae}, d_in ${meta.dIn}`);
  }
  if (opts.expectDModel !== undefined && opts.expectDModel !== meta.dIn) {
    throw new FileFormatError(meta.source, `SAE d_in is ${meta.dIn} but the model's d_model is ${opts.expectDModel}: this dictionary was trained for another model or hook`);
  }
  if (meta.architecture === 'jumprelu' && !plan.threshold) {
    throw new FileFormatError(plan.files[plan.files.length - 1]!, 'jumprelu SAE has no threshold');
  }
  if (meta.architecture === 'topk' && !(meta.k && meta.k > 0)) {
    throw new FileFormatError(meta.source, 'topk SAE without a positive k');
  }
}

/** Build a plan from an open container, validate it and make the source; the container closes on any error. */
function sourceFrom(c: RawContainer, opts: LoadSaeOptions, build: () => Plan): SaeSource {
  try {
    const plan = build();
    validate(plan, opts);
    return makeSource(plan);
  } catch (e) {
    c.close();
    throw e;
  }
}

function makeSource(plan: Plan): SaeSource {
  const { meta } = plan;
  let closed = false;
  const fin = (file: string, name: string, a: Float32Array): Float32Array => {
    if (plan.checkFinite) checkFinite(file, name, a);
    return a;
  };
  return {
    meta,
    files: plan.files,
    estimateBytes: () => 4 * (2 * meta.dIn * meta.dSae + meta.dSae + meta.dIn + (plan.threshold ? meta.dSae : 0)),
    load() {
      const arrays: SaeArrays = {
        W_enc: fin(plan.W_enc.raw.file, plan.W_enc.raw.name, plan.W_enc.readAll()),
        b_enc: fin(plan.files[0]!, 'b_enc', plan.b_enc()),
        W_dec: fin(plan.W_dec.raw.file, plan.W_dec.raw.name, plan.W_dec.readAll()),
        b_dec: fin(plan.files[0]!, 'b_dec', plan.b_dec()),
        threshold: plan.threshold ? fin(plan.files[0]!, 'threshold', plan.threshold()) : null,
      };
      return new TfSae(meta, arrays);
    },
    loadSlice(indices) {
      for (const i of indices) {
        if (!Number.isInteger(i) || i < 0 || i >= meta.dSae) throw new RangeError(`feature index ${i} out of range [0, ${meta.dSae})`);
      }
      const pick = (v: Float32Array) => Float32Array.from(indices, (i) => v[i]!);
      const W_dec = new Float32Array(indices.length * meta.dIn);
      indices.forEach((i, j) => W_dec.set(plan.W_dec.readRows(i, i + 1), j * meta.dIn));
      return makeSlice(meta, indices, {
        W_enc: fin(plan.W_enc.raw.file, plan.W_enc.raw.name, plan.W_enc.readColumns(indices)),
        b_enc: pick(plan.b_enc()),
        W_dec: fin(plan.W_dec.raw.file, plan.W_dec.raw.name, W_dec),
        b_dec: plan.b_dec(),
        threshold: plan.threshold ? pick(plan.threshold()) : null,
      });
    },
    loadRange(f0, f1) {
      if (!(Number.isInteger(f0) && Number.isInteger(f1) && 0 <= f0 && f0 < f1 && f1 <= meta.dSae)) {
        throw new RangeError(`feature range [${f0}, ${f1}) is not inside [0, ${meta.dSae})`);
      }
      const indices = Array.from({ length: f1 - f0 }, (_, i) => f0 + i);
      return makeSlice(meta, indices, {
        W_enc: fin(plan.W_enc.raw.file, plan.W_enc.raw.name, plan.W_enc.readColumnRange(f0, f1)),
        b_enc: plan.b_enc().slice(f0, f1),
        W_dec: fin(plan.W_dec.raw.file, plan.W_dec.raw.name, plan.W_dec.readRows(f0, f1)),
        b_dec: plan.b_dec(),
        threshold: plan.threshold ? plan.threshold().slice(f0, f1) : null,
      });
    },
    readDecoderRows: (r0, r1) => fin(plan.W_dec.raw.file, plan.W_dec.raw.name, plan.W_dec.readRows(r0, r1)),
    close() {
      if (closed) return;
      closed = true;
      for (const c of plan.containers) c.close();
    },
  };
}

// -------------------------------------------------------------------------------------- formats

interface GemmaScopeInfo {
  layer: number | null;
  width: string | null;
  l0: number | null;
  /** "2b", "9b-it", … from a gemma-scope-{size}-{pt|it}-{site} folder or HF cache repo folder. */
  model: string | null;
  site: 'res' | 'mlp' | 'att' | null;
  canonical: boolean;
  embedding: boolean;
}

function gemmaScopeInfo(file: string): GemmaScopeInfo {
  const parts = path.resolve(file).split(path.sep);
  const out: GemmaScopeInfo = { layer: null, width: null, l0: null, model: null, site: null, canonical: false, embedding: false };
  for (const p of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^layer_(\d+)$/.exec(p))) out.layer = Number(m[1]);
    else if (p === 'embedding') out.embedding = true;
    else if ((m = /^width_(\w+)$/.exec(p))) out.width = m[1]!;
    else if ((m = /^average_l0_(\d+)$/.exec(p))) out.l0 = Number(m[1]);
    else if (p === 'canonical') out.canonical = true;
    else if ((m = /^(?:models--google--)?gemma-scope-([\w.]+)-(pt|it)-(res|mlp|att)(-canonical)?$/.exec(p))) {
      out.model = m[2] === 'it' ? `${m[1]}-it` : m[1]!;
      out.site = m[3] as GemmaScopeInfo['site'];
      if (m[4]) out.canonical = true;
    }
  }
  return out;
}

/**
 * Neuronpedia id of a Gemma Scope file: the registry's (SAELens yaml) id when the release lists this
 * layer/width/L0, so the canonical pick gets the bare id and the others `__l0-{k}`; for a (layer, width)
 * the registry does not list, `__l0-{k}` (only a `canonical` folder is known to be the bare id).
 */
function gemmaScopeNeuronpediaId(info: GemmaScopeInfo, layer: number, site: 'res' | 'mlp' | 'att', notes: string[]): string | null {
  if (!info.model || !info.width || layer < 0) return null;
  const model = `gemma-2-${info.model}`;
  if (info.l0 !== null) {
    const pt = info.model.endsWith('-it') ? `${info.model.slice(0, -3)}-it` : `${info.model}-pt`;
    const hit = registryEntryFor(`google/gemma-scope-${pt}-${site}`, `layer_${layer}/width_${info.width}/average_l0_${info.l0}`);
    if (hit) return hit.entry.neuronpedia;
  }
  if (info.canonical) return neuronpediaSourceId({ model, layer, release: 'gemmascope', site, width: info.width });
  if (info.l0 === null) return null;
  notes.push('Neuronpedia id from the naming rule (this layer/width/L0 is not in the release registry)');
  return neuronpediaSourceId({ model, layer, release: 'gemmascope', site, width: info.width, l0: info.l0 });
}

/** The stored names SAELens's gemma_2 loader maps to state-dict keys ("w_enc" → "W_enc"). */
function gemmaKey(c: RawContainer, key: string): string {
  const lower = `w_${key.slice(2)}`;
  return key.startsWith('W_') && !c.has(key) && c.has(lower) ? lower : key;
}

function openGemmaScope(p: string, opts: LoadSaeOptions, extraNotes: string[] = []): SaeSource {
  const file = isDir(p) ? path.join(p, 'params.npz') : p;
  const c = openNpzContainer(file);
  return sourceFrom(c, opts, () => {
    const names = ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold', 'scaling_factor'];
    checkTensorNames(c, [...names, 'w_enc', 'w_dec']);
    const W_enc = need(c, gemmaKey(c, 'W_enc'), 'encoder');
    if (W_enc.shape.length !== 2) throw new FileFormatError(file, `W_enc has shape [${W_enc.shape}], expected 2-D`);
    const [dIn, dSae] = W_enc.shape as [number, number];
    const W_dec = need(c, gemmaKey(c, 'W_dec'), 'decoder');
    const b_enc = need(c, 'b_enc', 'encoder bias');
    const b_dec = need(c, 'b_dec', 'decoder bias');
    checkShape(W_dec, [dSae, dIn], 'decoder');
    checkShape(b_enc, [dSae], 'encoder bias');
    checkShape(b_dec, [dIn], 'decoder bias');
    if (!c.has('threshold')) throw new FileFormatError(file, `missing threshold "threshold" (has: ${c.names().join(', ')}); Gemma Scope SAEs are JumpReLU`);
    const thr = c.get('threshold');
    checkShape(thr, [dSae], 'threshold');
    const notes = [...extraNotes];
    // gemma_2 configs set finetuning_scaling_factor false: a non-unit scaling_factor is refused.
    scalingFactorFold(c, dSae, false, file, notes);
    const info = gemmaScopeInfo(file);
    const layer = opts.layer ?? (info.embedding ? 0 : info.layer) ?? -1;
    const site = info.site ?? 'res';
    const hookPoint =
      opts.hookPoint ??
      (info.embedding ? 'hook_embed' : layer < 0 ? '' : site === 'mlp' ? `blocks.${layer}.hook_mlp_out` : site === 'att' ? `blocks.${layer}.attn.hook_z` : `blocks.${layer}.hook_resid_post`);
    if (layer < 0) notes.push('layer unknown (not in the path): pass the layer option');
    // SAELens gemma_2 loader: embedding SAEs were trained on embeddings without the √d_model scale.
    const emb = info.embedding ? Math.sqrt(dIn) : 1;
    if (info.embedding) notes.push(`embedding SAE: W_enc/√d_in, W_dec·√d_in (√${dIn}), as SAELens's gemma_2 loader`);
    const auto = info.embedding ? null : gemmaScopeNeuronpediaId(info, layer, site, notes);
    const meta: SaeMeta = {
      id:
        info.layer !== null && info.width
          ? `gemmascope:layer_${info.layer}/width_${info.width}/${info.l0 !== null ? `average_l0_${info.l0}` : path.basename(path.dirname(path.resolve(file)))}`
          : `gemmascope:${path.basename(path.dirname(path.resolve(file)))}`,
      format: 'gemmascope',
      source: file,
      architecture: 'jumprelu',
      layer,
      hookPoint,
      dIn,
      dSae,
      k: null,
      applyBDecToInput: false,
      neuronpediaId: opts.neuronpediaId !== undefined ? opts.neuronpediaId : auto,
      notes,
    };
    const plan: Plan = {
      meta,
      files: [file],
      containers: [c],
      W_enc: new LogicalMatrix(W_enc, false, 1 / emb),
      W_dec: new LogicalMatrix(W_dec, false, emb),
      b_enc: vec(b_enc),
      b_dec: vec(b_dec),
      threshold: vec(thr),
      checkFinite: opts.checkFinite ?? true,
    };
    return plan;
  });
}

/**
 * SAELens `scaling_factor` tensor (read_sae_components_from_disk / gemma_2 loader): all ones → dropped;
 * otherwise only a pre-6 `finetuning_scaling_factor: true` SAE may use it (SAELens ≤ 5 multiplies the
 * features by it before decoding: folded into the decoder rows here); anything else is refused, as
 * SAELens 6 refuses it.
 */
function scalingFactorFold(c: RawContainer, dSae: number, finetuning: boolean, cfgFile: string, notes: string[]): (() => Float32Array) | null {
  if (!c.has('scaling_factor')) return null;
  const t = c.get('scaling_factor');
  checkShape(t, [dSae], 'scaling factor');
  const v = t.readAll();
  // torch.allclose(x, ones): |x − 1| ≤ 1e-8 + 1e-5·1
  const unit = v.every((x) => Math.abs(x - 1) <= 1e-8 + 1e-5);
  if (unit) {
    notes.push('scaling_factor tensor is all ones: dropped (as SAELens does)');
    return null;
  }
  if (!finetuning) {
    throw new FileFormatError(
      c.file,
      `tensor "scaling_factor" is not all ones but ${cfgFile} does not set finetuning_scaling_factor: true (SAELens refuses this SAE: "Scaling factor is present but finetuning_scaling_factor is False")`,
    );
  }
  notes.push('finetuning scaling_factor (SAELens ≤ 5): features multiplied by it before decoding, folded into the decoder rows');
  return () => v;
}

/** Stored tensors an SAE may hold; anything else (SAELens load_state_dict is strict) is refused by name. */
function checkTensorNames(c: RawContainer, allowed: string[]): void {
  const extra = c.names().filter((n) => !allowed.includes(n));
  if (extra.length) throw new FileFormatError(c.file, `unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.map((n) => `"${n}"`).join(', ')} (this SAE may hold ${allowed.join(', ')}); refusing rather than ignoring`);
}

function openSaeLens(p: string, opts: LoadSaeOptions): SaeSource {
  const dir = folderOf(p);
  const cfgPath = path.join(dir, 'cfg.json');
  const wPath = path.join(dir, 'sae_weights.safetensors');
  const cfg = parseSaeLensConfig(readJson(cfgPath), cfgPath);
  if (!exists(wPath)) throw new FileFormatError(wPath, 'missing: a SAELens folder needs sae_weights.safetensors next to cfg.json');
  const { dIn, dSae, architecture, k, dtype } = cfg;
  const notes: string[] = [...cfg.notes];
  let f = 1;
  if (cfg.normalize === 'expected_average_only_in') {
    const given = opts.normScalingFactor;
    if (given === undefined) {
      throw new FileFormatError(
        cfgPath,
        'normalize_activations is "expected_average_only_in" but the norm scaling factor is not in cfg.json (SAELens takes it from pretrained_saes.yaml): open it by release (sae info --release …), or pass it (option normScalingFactor / --norm-scaling-factor)',
      );
    }
    if (!(given > 0)) throw new FileFormatError(cfgPath, `norm scaling factor must be positive, got ${given}`);
    f = given;
    notes.push(`folded norm scaling factor ${f} (expected_average_only_in, as SAELens from_pretrained): W_enc·f, W_dec/f, b_dec/f`);
  }
  const c = openSafetensorsContainer(wPath);
  return sourceFrom(c, opts, () => {
    const thrNames = architecture === 'jumprelu' ? ['threshold', 'log_threshold'] : [];
    checkTensorNames(c, ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'scaling_factor', ...thrNames]);
    const W_enc = need(c, 'W_enc', 'encoder');
    checkShape(W_enc, [dIn, dSae], 'encoder');
    const W_dec = need(c, 'W_dec', 'decoder');
    checkShape(W_dec, [dSae, dIn], 'decoder');
    const b_enc = need(c, 'b_enc', 'encoder bias');
    checkShape(b_enc, [dSae], 'encoder bias');
    const b_dec = need(c, 'b_dec', 'decoder bias');
    checkShape(b_dec, [dIn], 'decoder bias');
    const sf = scalingFactorFold(c, dSae, cfg.finetuningScalingFactor, cfgPath, notes);
    let threshold: (() => Float32Array) | null = null;
    if (architecture === 'jumprelu') {
      if (c.has('threshold')) {
        const t = c.get('threshold');
        checkShape(t, [dSae], 'threshold');
        threshold = vec(t, 1, dtype);
      } else if (c.has('log_threshold')) {
        const t = c.get('log_threshold');
        checkShape(t, [dSae], 'threshold');
        threshold = () => roundToDtype(t.readAll().map((x) => Math.exp(x)), dtype);
        notes.push('threshold = exp(log_threshold) (SAELens training checkpoint)');
      } else throw new FileFormatError(wPath, `missing threshold "threshold" for a jumprelu SAE (has: ${c.names().join(', ')})`);
      if (opts.llamaScopeThreshold === 'legacy') {
        if (f === 1) throw new FileFormatError(cfgPath, 'legacy Llama Scope threshold asked for, but this SAE has no norm scaling factor to undo');
        const base = threshold;
        threshold = () => base().map((x) => x / f);
        notes.push(`legacy Llama Scope threshold (SAELens ≤ 5.10.2, W11): stored threshold / ${f}`);
      }
    }
    const W_dec0 = new LogicalMatrix(W_dec, false, 1 / f, { round: dtype, rowScale: sf ?? undefined });
    // TopK rescale_acts_by_decoder_norm: SAELens computes ‖W_dec‖ at run time from the (already folded)
    // decoder; folding n = ‖W_dec_i‖ (fold_W_dec_norm) gives the same top-k and the same output.
    let norms: Float32Array | null = null;
    const n = () => (norms ??= W_dec0.rowNorms());
    const inv = () => n().map((x) => 1 / x);
    const rescale = cfg.rescaleActsByDecoderNorm;
    const hook = cfg.hookName;
    const layer = opts.layer ?? layerFromHook(hook) ?? -1;
    const meta: SaeMeta = {
      id: `saelens:${path.basename(path.resolve(dir))}`,
      format: 'saelens',
      source: dir,
      architecture,
      layer,
      hookPoint: opts.hookPoint ?? hook,
      dIn,
      dSae,
      k,
      applyBDecToInput: cfg.applyBDecToInput,
      neuronpediaId: opts.neuronpediaId ?? cfg.neuronpediaId,
      notes,
    };
    const plan: Plan = {
      meta,
      files: [cfgPath, wPath],
      containers: [c],
      W_enc: new LogicalMatrix(W_enc, false, f, { round: dtype, colScale: rescale ? n : undefined }),
      W_dec: rescale ? new LogicalMatrix(W_dec, false, 1 / f, { round: dtype, rowScale: sf ? () => inv().map((x, i) => x * sf()[i]!) : inv }) : W_dec0,
      b_enc: rescale ? () => vec(b_enc, 1, dtype)().map((x, i) => x * n()[i]!) : vec(b_enc, 1, dtype),
      b_dec: vec(b_dec, 1 / f, dtype),
      threshold,
      checkFinite: opts.checkFinite ?? true,
    };
    return plan;
  });
}

/**
 * Llama Scope (fnlp Llama3_1-8B-Base-L{l}{R|A|M}-{8|32}x) as Neuronpedia names it: llama3.1-8b/{l}-llamascope-{res|att|mlp}-{32k|131k}.
 * Only for the 8B base model's width (d_model 4096) and a recognised folder or hook; otherwise unknown (null).
 */
function llamaScopeNeuronpediaId(dir: string, hook: string, layer: number, dIn: number, dSae: number): string | null {
  if (dIn !== 4096 || layer < 0) return null;
  const m = /L(\d+)([RAM])-(\d+)x/.exec(path.basename(path.resolve(dir)));
  const site = m ? ({ R: 'res', A: 'att', M: 'mlp' } as const)[m[2] as 'R' | 'A' | 'M'] : /hook_resid_post$/.test(hook) ? 'res' : /hook_attn_out$/.test(hook) ? 'att' : /hook_mlp_out$/.test(hook) ? 'mlp' : null;
  if (!site) return null;
  return neuronpediaSourceId({ model: 'llama3.1-8b', layer, release: 'llamascope', site, width: dSae });
}

function openLlamaScope(p: string, opts: LoadSaeOptions): SaeSource {
  let dir = folderOf(p);
  if (path.basename(dir) === 'checkpoints') dir = path.dirname(dir);
  const hpPath = path.join(dir, 'hyperparams.json');
  const wPath = path.join(dir, 'checkpoints', 'final.safetensors');
  const hp = readJson(hpPath);
  if (!exists(wPath)) throw new FileFormatError(wPath, 'missing: a Llama Scope folder needs checkpoints/final.safetensors');
  const dIn = Number(hp.d_model);
  const dSae = Number(hp.d_sae);
  if (!(dIn > 0) || !(dSae > 0)) throw new FileFormatError(hpPath, 'd_model and d_sae must be positive numbers');
  const rawThr = hp.jump_relu_threshold;
  if (typeof rawThr !== 'number' || !Number.isFinite(rawThr)) throw new FileFormatError(hpPath, 'missing threshold: jump_relu_threshold must be a number');
  const avg = (hp.dataset_average_activation_norm ?? {}) as Record<string, unknown>;
  const avgIn = Number(avg.in);
  const sFromHp = avgIn > 0 ? Math.sqrt(dIn) / avgIn : null;
  const s = opts.normScalingFactor ?? sFromHp;
  if (s === null || !(s > 0)) {
    throw new FileFormatError(hpPath, 'dataset_average_activation_norm.in is missing and no norm scaling factor was given');
  }
  const rule = opts.llamaScopeThreshold ?? 'corrected';
  const theta = rule === 'corrected' ? rawThr * (sFromHp ?? s) : rawThr;
  const notes = [
    `folded norm scaling factor s = ${s}${opts.normScalingFactor !== undefined ? ' (given)' : ' = sqrt(d_model)/dataset_average_activation_norm.in'}: W_enc·s, W_dec/s, b_dec/s`,
    rule === 'corrected'
      ? `threshold rule corrected (SAELens ≥ 5.10.3, W11): θ = ${rawThr}·${sFromHp ?? s} = ${theta}`
      : `threshold rule legacy (SAELens ≤ 5.10.2, W11): θ = ${rawThr} unscaled`,
  ];
  const c = openSafetensorsContainer(wPath);
  return sourceFrom(c, opts, () => {
    const enc = need(c, 'encoder.weight', 'encoder');
    checkShape(enc, [dSae, dIn], 'encoder');
    const dec = need(c, 'decoder.weight', 'decoder');
    checkShape(dec, [dIn, dSae], 'decoder');
    const b_enc = need(c, 'encoder.bias', 'encoder bias');
    checkShape(b_enc, [dSae], 'encoder bias');
    const b_dec = need(c, 'decoder.bias', 'decoder bias');
    checkShape(b_dec, [dIn], 'decoder bias');
    const hook = String(hp.hook_point_in ?? '');
    const layer = opts.layer ?? layerFromHook(hook) ?? -1;
    const meta: SaeMeta = {
      id: `llamascope:${path.basename(path.resolve(dir))}`,
      format: 'llamascope',
      source: dir,
      architecture: 'jumprelu',
      layer,
      hookPoint: opts.hookPoint ?? hook,
      dIn,
      dSae,
      k: null,
      applyBDecToInput: false,
      neuronpediaId: opts.neuronpediaId !== undefined ? opts.neuronpediaId : llamaScopeNeuronpediaId(dir, hook, layer, dIn, dSae),
      notes,
    };
    const thr = Math.fround(theta);
    const plan: Plan = {
      meta,
      files: [hpPath, wPath],
      containers: [c],
      W_enc: new LogicalMatrix(enc, true, s),
      W_dec: new LogicalMatrix(dec, true, 1 / s),
      b_enc: vec(b_enc),
      b_dec: vec(b_dec, 1 / s),
      threshold: () => new Float32Array(dSae).fill(thr),
      checkFinite: opts.checkFinite ?? true,
    };
    return plan;
  });
}

// -------------------------------------------------------------------------------------- gemma-scope tree

export interface TreeChoice {
  layer: number;
  width: string;
  l0: number;
  file: string;
  /** Every L0 available for this layer and width. */
  available: number[];
}

/** Per layer, the params.npz whose average L0 is closest to `targetL0` (ties: the smaller L0). */
export function scanGemmaScopeTree(root: string, opts: { width?: string; targetL0?: number } = {}): TreeChoice[] {
  const target = opts.targetL0 ?? 100;
  const layers = fs
    .readdirSync(root)
    .map((n) => /^layer_(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (!layers.length) throw new FileFormatError(root, 'no layer_* folders: not a gemma-scope tree');
  const want = opts.width?.replace(/^width_/, '');
  const out: TreeChoice[] = [];
  for (const layer of layers) {
    const ldir = path.join(root, `layer_${layer}`);
    const widths = fs.readdirSync(ldir).filter((n) => /^width_\w+$/.test(n)).map((n) => n.slice(6));
    let width: string;
    if (want) {
      if (!widths.includes(want)) throw new FileFormatError(ldir, `no width_${want} (has: ${widths.map((w) => `width_${w}`).join(', ') || 'none'})`);
      width = want;
    } else if (widths.length === 1) width = widths[0]!;
    else throw new FileFormatError(ldir, `several widths (${widths.join(', ')}): name one (option width)`);
    const wdir = path.join(ldir, `width_${width}`);
    const l0s = fs
      .readdirSync(wdir)
      .map((n) => /^average_l0_(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m && exists(path.join(wdir, m[0], 'params.npz')))
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    if (!l0s.length) {
      // gemma-scope-*-canonical trees hold one `canonical/params.npz` per width instead.
      const canon = path.join(wdir, 'canonical', 'params.npz');
      if (exists(canon)) {
        out.push({ layer, width, l0: NaN, file: canon, available: [] });
        continue;
      }
      throw new FileFormatError(wdir, 'no average_l0_*/params.npz (or canonical/params.npz)');
    }
    let best = l0s[0]!;
    for (const l of l0s) if (Math.abs(l - target) < Math.abs(best - target)) best = l;
    out.push({ layer, width, l0: best, file: path.join(wdir, `average_l0_${best}`, 'params.npz'), available: l0s });
  }
  return out;
}

// -------------------------------------------------------------------------------------- registry

export type SaeOpener = (p: string, opts: LoadSaeOptions) => SaeSource;

const registry = new Map<SaeLayout, SaeOpener>([
  ['gemmascope', (p, o) => openGemmaScope(p, o)],
  ['saelens', openSaeLens],
  ['llamascope', openLlamaScope],
  [
    'gemmascope-tree',
    (p, o) => {
      if (o.layer === undefined) throw new FileFormatError(p, 'a gemma-scope tree holds many layers: pass the layer option (or use SaeSet)');
      const choice = scanGemmaScopeTree(p, o).find((c) => c.layer === o.layer);
      if (!choice) throw new FileFormatError(p, `no layer_${o.layer} in this tree`);
      if (Number.isNaN(choice.l0)) return openGemmaScope(choice.file, o, [`canonical dictionary for layer ${choice.layer} (width ${choice.width})`]);
      const note = `picked average_l0_${choice.l0} for layer ${choice.layer} (width ${choice.width}; closest to target L0 ${o.targetL0 ?? 100} among ${choice.available.join(', ')})`;
      return openGemmaScope(choice.file, o, [note]);
    },
  ],
]);

/** Add or replace a format (e.g. a new release layout). */
export function registerSaeFormat(name: SaeLayout, opener: SaeOpener): void {
  registry.set(name, opener);
}

/** Open an SAE from headers only (nothing loaded). */
export function openSae(pIn: string, optsIn: LoadSaeOptions = {}): SaeSource {
  const { p, opts } = resolveSaeInput(pIn, optsIn);
  const layout = opts.format ?? detectLayout(p);
  const opener = registry.get(layout);
  if (!opener) throw new FileFormatError(p, `unknown SAE format "${layout}" (known: ${[...registry.keys()].join(', ')})`);
  return opener(p, opts);
}

/**
 * A path in the Hugging Face cache (repo root, snapshot, symlinked blobs) → the folder to read; a file of
 * a registry release also gets the options SAELens's from_pretrained applies for it (layer, hook, norm
 * scaling factor, Neuronpedia id). Explicit options win.
 */
export function resolveSaeInput(pIn: string, opts: LoadSaeOptions): { p: string; opts: LoadSaeOptions; notes: string[] } {
  const loc = resolveHfPath(pIn);
  if (!loc.repoId || !loc.subpath) return { p: loc.path, opts, notes: loc.notes };
  const hit = registryEntryFor(loc.repoId, loc.subpath);
  if (!hit) return { p: loc.path, opts, notes: loc.notes };
  return { p: loc.path, opts: { ...registryLoadOptions(hit.release, hit.entry), ...opts }, notes: [...loc.notes, `registry: ${hit.release.id} ${hit.entry.id}`] };
}

/** Open, load every weight, close the files. */
export async function loadSae(p: string, opts: LoadSaeOptions = {}): Promise<TfSae> {
  return loadSaeSync(p, opts);
}

export function loadSaeSync(p: string, opts: LoadSaeOptions = {}): TfSae {
  const src = openSae(p, opts);
  try {
    return src.load();
  } finally {
    src.close();
  }
}

/**
 * float32 bytes the SAE(s) at `p` take once loaded, from headers only. For a gemma-scope tree: the sum
 * over layers (or the layers given) of the files that would be picked.
 */
export function estimateSaeBytes(pIn: string, opts: LoadSaeOptions & { layers?: number[] } = {}): number {
  const p = resolveHfPath(pIn).path;
  const layout = opts.format ?? detectLayout(p);
  if (layout === 'gemmascope-tree' && opts.layer === undefined) {
    let total = 0;
    for (const c of scanGemmaScopeTree(p, opts)) {
      if (opts.layers && !opts.layers.includes(c.layer)) continue;
      const src = openGemmaScope(c.file, { ...opts, layer: c.layer });
      total += src.estimateBytes();
      src.close();
    }
    return total;
  }
  const src = openSae(p, { ...opts, format: layout });
  try {
    return src.estimateBytes();
  } finally {
    src.close();
  }
}
