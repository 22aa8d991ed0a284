/**
 * One test per SAELens cfg field we read. Expected values come from SAELens 6.18's formulas written out
 * here in float64 (saes/sae.py process_sae_in, standard/jumprelu/topk encode/decode, from_pretrained's
 * fold_activation_norm_scaling_factor, loading/pretrained_sae_loaders.py handle_pre_6_0_config and
 * read_sae_components_from_disk):
 *   sae_in = x − b_dec·apply_b_dec_to_input
 *   pre    = sae_in @ W_enc + b_enc                     (topk + rescale_acts_by_decoder_norm: pre · ‖W_dec_i‖)
 *   f      = relu(pre) | relu(pre)·(pre > θ) | top-k of pre, relu'd
 *   out    = (f [/‖W_dec_i‖]) @ W_dec + b_dec
 *   expected_average_only_in with factor s (from_pretrained): W_enc·s, W_dec/s, b_dec/s
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { writeNpz } from '../../workers/engine/io/npy.js';
import { writeSafetensors } from '../../workers/engine/io/safetensors.js';
import { loadSae, openSae } from '../../workers/sae/load.js';
import { roundToDtype } from '../../workers/sae/saelens-config.js';

let dir: string;
const dIn = 6;
const dSae = 20;
const N = 7;

function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

interface W {
  W_enc: Float32Array;
  W_dec: Float32Array;
  b_enc: Float32Array;
  b_dec: Float32Array;
  threshold: Float32Array;
}

function weights(seed: number): W {
  const W_dec = rand(dSae * dIn, seed + 1, 0.5);
  // decoder rows with very different norms, so decoder-norm rescaling changes the top-k set
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) W_dec[i * dIn + j] = W_dec[i * dIn + j]! * (0.2 + (i % 5));
  return {
    W_enc: rand(dIn * dSae, seed, 0.6),
    W_dec,
    b_enc: rand(dSae, seed + 2, 0.1),
    b_dec: rand(dIn, seed + 3, 0.3),
    threshold: rand(dSae, seed + 4, 0.2).map(Math.abs),
  };
}

const X = rand(N * dIn, 4242, 2);

interface RefCfg {
  arch: 'relu' | 'jumprelu' | 'topk';
  apply: boolean;
  k?: number;
  rescale?: boolean;
  s?: number;
  ftScale?: Float32Array;
}

/** SAELens encode/decode in float64 (see the header). */
function reference(w: W, c: RefCfg): { f: number[][]; out: number[][] } {
  const s = c.s ?? 1;
  const Wenc = Array.from(w.W_enc, (v) => v * s);
  const Wdec = Array.from(w.W_dec, (v) => v / s);
  const bdec = Array.from(w.b_dec, (v) => v / s);
  const norms = Array.from({ length: dSae }, (_, i) => Math.hypot(...Wdec.slice(i * dIn, (i + 1) * dIn)));
  const fs_: number[][] = [];
  const outs: number[][] = [];
  for (let r = 0; r < N; r++) {
    const x = Array.from(X.slice(r * dIn, (r + 1) * dIn));
    const sin = x.map((v, i) => v - (c.apply ? bdec[i]! : 0));
    let pre = Array.from({ length: dSae }, (_, j) => sin.reduce((a, v, i) => a + v * Wenc[i * dSae + j]!, w.b_enc[j]!));
    if (c.rescale) pre = pre.map((v, j) => v * norms[j]!);
    let f: number[];
    if (c.arch === 'relu') f = pre.map((v) => Math.max(0, v));
    else if (c.arch === 'jumprelu') f = pre.map((v, j) => (v > w.threshold[j]! ? Math.max(0, v) : 0));
    else {
      const kth = [...pre].sort((a, b) => b - a)[c.k! - 1]!;
      f = pre.map((v) => (v >= kth ? Math.max(0, v) : 0));
    }
    fs_.push(f);
    let fd = c.rescale ? f.map((v, j) => v / norms[j]!) : f;
    if (c.ftScale) fd = fd.map((v, j) => v * c.ftScale![j]!);
    outs.push(Array.from({ length: dIn }, (_, i) => fd.reduce((a, v, j) => a + v * Wdec[j * dIn + i]!, bdec[i]!)));
  }
  return { f: fs_, out: outs };
}

function writeLens(name: string, cfg: Record<string, unknown>, w: Partial<W> & Record<string, Float32Array | undefined>): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'cfg.json'), JSON.stringify({ d_in: dIn, d_sae: dSae, ...cfg }));
  const shapes: Record<string, number[]> = { W_enc: [dIn, dSae], W_dec: [dSae, dIn], b_enc: [dSae], b_dec: [dIn], threshold: [dSae], scaling_factor: [dSae], log_threshold: [dSae], extra: [dSae] };
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(w)) if (v) t[k] = { shape: shapes[k] ?? [v.length], data: v };
  writeSafetensors(path.join(d, 'sae_weights.safetensors'), t);
  return d;
}

const v6 = (extra: Record<string, unknown> = {}) => ({ metadata: { sae_lens_version: '6.18.0', hook_name: 'blocks.2.hook_resid_post' }, ...extra });

async function check(d: string, c: RefCfg, opts: Parameters<typeof loadSae>[1] = {}, w?: W, tol = 2e-5) {
  const sae = await loadSae(d, opts);
  const want = reference(w ?? weights(1), c);
  const x = tf.tensor2d(X, [N, dIn]);
  const f = sae.encode(x);
  const out = sae.decode(f);
  const fd = f.dataSync();
  const od = out.dataSync();
  let ef = 0;
  let eo = 0;
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < dSae; j++) {
      ef = Math.max(ef, Math.abs(fd[r * dSae + j]! - want.f[r]![j]!));
      // identical active sets
      expect(fd[r * dSae + j]! !== 0, `row ${r} feature ${j} active`).toBe(want.f[r]![j]! !== 0);
    }
    for (let i = 0; i < dIn; i++) eo = Math.max(eo, Math.abs(od[r * dIn + i]! - want.out[r]![i]!));
  }
  tf.dispose([x, f, out]);
  expect(ef).toBeLessThanOrEqual(tol);
  expect(eo).toBeLessThanOrEqual(tol);
  return sae;
}

function refused(fn: () => unknown, file: string, field: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should refuse').toBeInstanceOf(FileFormatError);
  expect((err as FileFormatError).file).toContain(file);
  expect((err as Error).message).toMatch(field);
}

beforeAll(async () => {
  await initBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sae-fields-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SAELens cfg fields, each against the SAELens formula', () => {
  const w = weights(1);
  const base = { W_enc: w.W_enc, W_dec: w.W_dec, b_enc: w.b_enc, b_dec: w.b_dec };

  it('architecture standard → relu', async () => {
    const s = await check(writeLens('std', v6({ architecture: 'standard', apply_b_dec_to_input: false }), base), { arch: 'relu', apply: false });
    expect(s.meta.architecture).toBe('relu');
    s.dispose();
  });

  it('architecture jumprelu: relu(pre)·(pre > θ)', async () => {
    (await check(writeLens('jr', v6({ architecture: 'jumprelu', apply_b_dec_to_input: false }), { ...base, threshold: w.threshold }), { arch: 'jumprelu', apply: false })).dispose();
  });

  it('apply_b_dec_to_input missing: SAELens default true (v6 and pre-6), false when set', async () => {
    const a = await check(writeLens('bdec-v6', v6({ architecture: 'standard' }), base), { arch: 'relu', apply: true });
    expect(a.meta.applyBDecToInput).toBe(true);
    expect(a.meta.notes.join(' ')).toMatch(/apply_b_dec_to_input missing/);
    a.dispose();
    (await check(writeLens('bdec-pre6', { hook_point: 'blocks.2.hook_resid_post' }, base), { arch: 'relu', apply: true })).dispose();
    (await check(writeLens('bdec-false', v6({ architecture: 'standard', apply_b_dec_to_input: false }), base), { arch: 'relu', apply: false })).dispose();
  });

  it('hook_point (pre-6) and metadata.hook_name (v6) name the hook and layer', () => {
    const a = openSae(writeLens('hp', { hook_point: 'blocks.7.hook_resid_post', sae_lens_version: '3.5.0' }, base));
    expect(a.meta.hookPoint).toBe('blocks.7.hook_resid_post');
    expect(a.meta.layer).toBe(7);
    a.close();
    const b = openSae(writeLens('hn', { architecture: 'standard', metadata: { sae_lens_version: '6.1.0', hook_name: 'blocks.11.hook_resid_post' } }, base));
    expect(b.meta.layer).toBe(11);
    b.close();
  });

  it('topk: top-k of pre, relu; k from cfg, from pre-6 activation_fn_kwargs, default 100', async () => {
    (await check(writeLens('topk', v6({ architecture: 'topk', k: 4, apply_b_dec_to_input: false }), base), { arch: 'topk', k: 4, apply: false })).dispose();
    const pre6 = await check(writeLens('topk-pre6', { activation_fn_str: 'topk', activation_fn_kwargs: { k: 3 }, hook_point: 'blocks.2.hook_resid_post' }, base), { arch: 'topk', k: 3, apply: true });
    expect(pre6.meta.k).toBe(3);
    pre6.dispose();
    // default k = 100 > d_sae here: refused by name rather than clamped
    refused(() => openSae(writeLens('topk-nok', v6({ architecture: 'topk' }), base)), 'cfg.json', /field "k": k = 100 is larger than d_sae/);
  });

  it('topk rescale_acts_by_decoder_norm: pre·‖W_dec_i‖ for the selection, f/‖W_dec_i‖ before decoding', async () => {
    const d = writeLens('rescale', v6({ architecture: 'topk', k: 4, rescale_acts_by_decoder_norm: true }), base);
    const s = await check(d, { arch: 'topk', k: 4, apply: true, rescale: true });
    // and it really differs from ignoring the field
    const plain = reference(w, { arch: 'topk', k: 4, apply: true });
    const resc = reference(w, { arch: 'topk', k: 4, apply: true, rescale: true });
    expect(plain.f.map((r) => r.map((v) => v !== 0))).not.toEqual(resc.f.map((r) => r.map((v) => v !== 0)));
    s.dispose();
    refused(() => openSae(writeLens('rescale-jr', v6({ architecture: 'jumprelu', rescale_acts_by_decoder_norm: true }), { ...base, threshold: w.threshold })), 'cfg.json', /rescale_acts_by_decoder_norm/);
  });

  it('normalize_activations expected_average_only_in folds the factor; refused without one', async () => {
    const d = writeLens('eao', v6({ architecture: 'jumprelu', apply_b_dec_to_input: true, normalize_activations: 'expected_average_only_in' }), { ...base, threshold: w.threshold });
    (await check(d, { arch: 'jumprelu', apply: true, s: 0.37 }, { normScalingFactor: 0.37 })).dispose();
    refused(() => openSae(d), 'cfg.json', /expected_average_only_in/);
  });

  it('pre-6 normalize_activations false → none, true → expected_average_only_in', async () => {
    (await check(writeLens('norm-false', { hook_point: 'blocks.2.hook_resid_post', normalize_activations: false }, base), { arch: 'relu', apply: true })).dispose();
    refused(() => openSae(writeLens('norm-true', { hook_point: 'blocks.2.hook_resid_post', normalize_activations: true }, base)), 'cfg.json', /expected_average_only_in/);
  });

  it('normalize_activations constant_norm_rescale / layer_norm: refused by name', () => {
    for (const n of ['constant_norm_rescale', 'layer_norm', 'bogus']) {
      refused(() => openSae(writeLens(`norm-${n}`, v6({ architecture: 'standard', normalize_activations: n }), base)), 'cfg.json', /field "normalize_activations"/);
    }
  });

  it('scaling_factor tensor: all ones dropped; non-unit refused (v6); pre-6 finetuning_scaling_factor multiplies f before decoding', async () => {
    const ones = new Float32Array(dSae).fill(1);
    const a = await check(writeLens('sf-ones', v6({ architecture: 'standard' }), { ...base, scaling_factor: ones }), { arch: 'relu', apply: true });
    expect(a.meta.notes.join(' ')).toMatch(/all ones: dropped/);
    a.dispose();
    const sf = rand(dSae, 77, 0.5).map((v) => 1 + v);
    refused(() => openSae(writeLens('sf-v6', v6({ architecture: 'standard' }), { ...base, scaling_factor: sf })), 'sae_weights.safetensors', /"scaling_factor"/);
    refused(() => openSae(writeLens('sf-pre6-false', { hook_point: 'blocks.2.hook_resid_post' }, { ...base, scaling_factor: sf })), 'sae_weights.safetensors', /finetuning_scaling_factor/);
    const d = writeLens('sf-pre6', { hook_point: 'blocks.2.hook_resid_post', finetuning_scaling_factor: true }, { ...base, scaling_factor: sf });
    (await check(d, { arch: 'relu', apply: true, ftScale: sf })).dispose();
  });

  it('dtype: bfloat16 / float16 weights are rounded as SAELens casts them; an unknown dtype is refused', async () => {
    for (const dt of ['bfloat16', 'float16'] as const) {
      const d = writeLens(`dt-${dt}`, v6({ architecture: 'standard', dtype: dt }), base);
      const r = (a: Float32Array) => roundToDtype(Float32Array.from(a), dt);
      const rw: W = { W_enc: r(w.W_enc), W_dec: r(w.W_dec), b_enc: r(w.b_enc), b_dec: r(w.b_dec), threshold: w.threshold };
      const s = await check(d, { arch: 'relu', apply: true }, {}, rw);
      const enc = s.W_enc.dataSync();
      expect(Array.from(enc)).toEqual(Array.from(rw.W_enc));
      s.dispose();
    }
    refused(() => openSae(writeLens('dt-int8', v6({ architecture: 'standard', dtype: 'int8' }), base)), 'cfg.json', /field "dtype"/);
  });

  it('bfloat16 / float16 rounding is round-to-nearest-even', () => {
    expect(Array.from(roundToDtype(Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9, -3.14159]), 'bfloat16'))).toEqual([1, 1 + 2 ** -6, 1, -3.140625]);
    expect(Array.from(roundToDtype(Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 1e-8, 2 ** -24]), 'float16'))).toEqual([1, 1 + 2 ** -9, 65504, 0, 2 ** -24]);
  });

  it('a field that may change encode/decode and that we do not know is refused by name; informational ones are ignored', async () => {
    refused(() => openSae(writeLens('unk', v6({ architecture: 'standard', mystery_scale: 2 }), base)), 'cfg.json', /field "mystery_scale"/);
    const s = openSae(writeLens('info', { hook_point: 'blocks.2.hook_resid_post', lr: 3e-4, l1_coefficient: 5, wandb_project: 'x', model_name: 'gpt2', context_size: 128, device: 'cuda', dataset_path: 'd', expansion_factor: 4 }, base));
    expect(s.meta.layer).toBe(2);
    s.close();
    refused(() => openSae(writeLens('act-fn', { hook_point: 'blocks.2.hook_resid_post', activation_fn_str: 'tanh-relu' }, base)), 'cfg.json', /field "activation_fn"/);
    refused(() => openSae(writeLens('reshape', v6({ architecture: 'standard', reshape_activations: 'hook_z' }), base)), 'cfg.json', /field "reshape_activations"/);
    refused(() => openSae(writeLens('head', v6({ architecture: 'standard', metadata: { sae_lens_version: '6.0.0', hook_name: 'blocks.2.attn.hook_z', hook_head_index: 3 } }), base)), 'cfg.json', /hook_head_index/);
    refused(() => openSae(writeLens('arch', v6({ architecture: 'gated' }), base)), 'cfg.json', /field "architecture"/);
    refused(() => openSae(writeLens('tl', v6({ architecture: 'standard', metadata: { sae_lens_version: '6.0.0', hook_name: 'blocks.2.hook_resid_post', model_from_pretrained_kwargs: { center_writing_weights: true } } }), base)), 'cfg.json', /model_from_pretrained_kwargs/);
  });

  it('an unexpected tensor is refused by name (SAELens load_state_dict is strict)', () => {
    refused(() => openSae(writeLens('extra-t', v6({ architecture: 'standard' }), { ...base, extra: new Float32Array(dSae) })), 'sae_weights.safetensors', /unexpected tensor "extra"/);
    refused(() => openSae(writeLens('thr-on-relu', v6({ architecture: 'standard' }), { ...base, threshold: w.threshold })), 'sae_weights.safetensors', /"threshold"/);
  });
});

describe('Gemma Scope params.npz (SAELens gemma_2 loader)', () => {
  const w = weights(5);
  const npz = (sub: string, arrays: Record<string, { shape: number[]; data: Float32Array }>) => {
    const d = path.join(dir, sub);
    fs.mkdirSync(d, { recursive: true });
    writeNpz(path.join(d, 'params.npz'), arrays);
    return path.join(d, 'params.npz');
  };
  const arrays = (extra: Record<string, { shape: number[]; data: Float32Array }> = {}) => ({
    W_enc: { shape: [dIn, dSae], data: w.W_enc },
    W_dec: { shape: [dSae, dIn], data: w.W_dec },
    b_enc: { shape: [dSae], data: w.b_enc },
    b_dec: { shape: [dIn], data: w.b_dec },
    threshold: { shape: [dSae], data: w.threshold },
    ...extra,
  });

  it('keys as-is (w_ prefix renamed to W_), jumprelu, no b_dec subtraction', async () => {
    const { W_enc, W_dec, ...rest } = arrays();
    const p = npz('gs/layer_3/width_16k/average_l0_9', { w_enc: W_enc, w_dec: W_dec, ...rest });
    (await check(p, { arch: 'jumprelu', apply: false }, {}, w)).dispose();
  });

  it('scaling_factor: ones dropped, non-unit refused; unknown arrays refused by name', () => {
    const a = openSae(npz('gs-ones/layer_3/width_16k/average_l0_9', arrays({ scaling_factor: { shape: [dSae], data: new Float32Array(dSae).fill(1) } })));
    expect(a.meta.notes.join(' ')).toMatch(/all ones/);
    a.close();
    const p = npz('gs-sf/layer_3/width_16k/average_l0_9', arrays({ scaling_factor: { shape: [dSae], data: new Float32Array(dSae).fill(2) } }));
    refused(() => openSae(p), p, /"scaling_factor"/);
    const q = npz('gs-x/layer_3/width_16k/average_l0_9', arrays({ b_gate: { shape: [dSae], data: new Float32Array(dSae) } }));
    refused(() => openSae(q), q, /unexpected tensor "b_gate"/);
  });

  it('embedding SAEs: W_enc/√d_in, W_dec·√d_in, hook_embed', async () => {
    const p = npz('gemma-scope-2b-pt-res/embedding/width_4k/average_l0_6', arrays());
    const s = await loadSae(p);
    expect(s.meta.hookPoint).toBe('hook_embed');
    const enc = s.W_enc.dataSync();
    const dec = s.W_dec.dataSync();
    expect(enc[5]).toBeCloseTo(w.W_enc[5]! / Math.sqrt(dIn), 6);
    expect(dec[5]).toBeCloseTo(w.W_dec[5]! * Math.sqrt(dIn), 5);
    s.dispose();
  });
});
