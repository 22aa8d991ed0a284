import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../workers/engine/backend.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { writeNpz } from '../../workers/engine/io/npy.js';
import { writeSafetensors } from '../../workers/engine/io/safetensors.js';
import { estimateSaeBytes, loadSae, openSae, scanGemmaScopeTree } from '../../workers/sae/load.js';
import { sliceSae } from '../../workers/sae/sae.js';
import { SaeSet } from '../../workers/sae/set.js';
import { FIX, maxAbsDiff, readBin, tmpDir } from './helpers.js';

let dir: string;
const F = 0.7629012908566744;

function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function gemmaArrays(dIn: number, dSae: number, seed: number) {
  return {
    W_enc: { shape: [dIn, dSae], data: rand(dIn * dSae, seed, 0.3) },
    W_dec: { shape: [dSae, dIn], data: rand(dIn * dSae, seed + 1, 0.3) },
    b_enc: { shape: [dSae], data: rand(dSae, seed + 2, 0.1) },
    b_dec: { shape: [dIn], data: rand(dIn, seed + 3, 0.1) },
    threshold: { shape: [dSae], data: rand(dSae, seed + 4, 0.2).map(Math.abs) },
  };
}

function expectFileError(fn: () => unknown, file: string, re?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should throw').toBeInstanceOf(FileFormatError);
  expect((err as FileFormatError).file).toContain(file);
  expect((err as Error).message).toContain(file);
  if (re) expect((err as Error).message).toMatch(re);
}

beforeAll(async () => {
  await initBackend();
  dir = tmpDir('formats');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('bad files give FileFormatError naming the file', () => {
  it('truncated params.npz', () => {
    const p = path.join(dir, 'trunc.npz');
    const buf = fs.readFileSync(`${FIX}/sae-gemmascope/params.npz`);
    fs.writeFileSync(p, buf.subarray(0, Math.floor(buf.length / 2)));
    expectFileError(() => openSae(p), p, /truncated/);
  });

  it('truncated sae_weights.safetensors and final.safetensors', () => {
    const d = path.join(dir, 'trunc-saelens');
    fs.mkdirSync(d);
    fs.copyFileSync(`${FIX}/sae-saelens/folded/cfg.json`, path.join(d, 'cfg.json'));
    const buf = fs.readFileSync(`${FIX}/sae-saelens/folded/sae_weights.safetensors`);
    const w = path.join(d, 'sae_weights.safetensors');
    fs.writeFileSync(w, buf.subarray(0, buf.length - 1000));
    expectFileError(() => openSae(d), w, /truncated/);
    const l = path.join(dir, 'trunc-llama');
    fs.mkdirSync(path.join(l, 'checkpoints'), { recursive: true });
    fs.copyFileSync(`${FIX}/sae-saelens/raw_llamascope/L1R-8x/hyperparams.json`, path.join(l, 'hyperparams.json'));
    const lb = fs.readFileSync(`${FIX}/sae-saelens/raw_llamascope/L1R-8x/checkpoints/final.safetensors`);
    fs.writeFileSync(path.join(l, 'checkpoints', 'final.safetensors'), lb.subarray(0, 100));
    expectFileError(() => openSae(l), path.join(l, 'checkpoints', 'final.safetensors'));
  });

  it("d_in ≠ the model's d_model", () => {
    expectFileError(() => openSae(`${FIX}/sae-gemmascope/params.npz`, { expectDModel: 2304 }), `${FIX}/sae-gemmascope/params.npz`, /d_in is 64.*2304/);
    expectFileError(() => openSae(`${FIX}/sae-saelens/raw_llamascope/L1R-8x`, { expectDModel: 4096 }), 'L1R-8x', /d_model is 4096/);
    expect(openSae(`${FIX}/sae-saelens/folded`, { expectDModel: 64 }).meta.dIn).toBe(64);
  });

  it('NaN weights', async () => {
    const a = gemmaArrays(8, 16, 3);
    a.W_dec.data[17] = NaN;
    const p = path.join(dir, 'nan.npz');
    writeNpz(p, a);
    await expect(loadSae(p)).rejects.toThrow(FileFormatError);
    await expect(loadSae(p)).rejects.toThrow(/nan\.npz.*W_dec.*NaN/);
  });

  it('missing threshold (npz, SAELens jumprelu, Llama Scope hyperparams)', () => {
    const a: Record<string, { shape: number[]; data: Float32Array }> = gemmaArrays(8, 16, 4);
    delete a.threshold;
    const p = path.join(dir, 'nothr.npz');
    writeNpz(p, a);
    expectFileError(() => openSae(p), p, /threshold/);

    const d = path.join(dir, 'nothr-saelens');
    fs.mkdirSync(d);
    fs.copyFileSync(`${FIX}/sae-saelens/folded/cfg.json`, path.join(d, 'cfg.json'));
    const cfg = JSON.parse(fs.readFileSync(path.join(d, 'cfg.json'), 'utf8'));
    cfg.d_in = 8;
    cfg.d_sae = 16;
    fs.writeFileSync(path.join(d, 'cfg.json'), JSON.stringify(cfg));
    writeSafetensors(path.join(d, 'sae_weights.safetensors'), a);
    expectFileError(() => openSae(d), path.join(d, 'sae_weights.safetensors'), /threshold/);

    const l = path.join(dir, 'nothr-llama');
    fs.mkdirSync(path.join(l, 'checkpoints'), { recursive: true });
    const hp = JSON.parse(fs.readFileSync(`${FIX}/sae-saelens/raw_llamascope/L1R-8x/hyperparams.json`, 'utf8'));
    delete hp.jump_relu_threshold;
    fs.writeFileSync(path.join(l, 'hyperparams.json'), JSON.stringify(hp));
    fs.copyFileSync(`${FIX}/sae-saelens/raw_llamascope/L1R-8x/checkpoints/final.safetensors`, path.join(l, 'checkpoints', 'final.safetensors'));
    expectFileError(() => openSae(l), path.join(l, 'hyperparams.json'), /threshold/);
  });

  it('expected_average_only_in without a norm scaling factor', () => {
    expectFileError(() => openSae(`${FIX}/sae-saelens`), `${FIX}/sae-saelens/cfg.json`, /norm scaling factor/);
  });

  it('not an SAE at all', () => {
    expectFileError(() => openSae(dir + '/does-not-exist'), 'does-not-exist');
    const e = path.join(dir, 'empty');
    fs.mkdirSync(e);
    expectFileError(() => openSae(e), e);
  });
});

describe('formats and options', () => {
  it('Llama Scope legacy threshold (W11) is θ unscaled, and gives larger L0', async () => {
    const corrected = await loadSae(`${FIX}/sae-saelens/raw_llamascope/L1R-8x`);
    const legacy = await loadSae(`${FIX}/sae-saelens/raw_llamascope/L1R-8x`, { llamaScopeThreshold: 'legacy' });
    expect(corrected.threshold!.dataSync()[0]).toBeCloseTo(1.1081624031066895, 6);
    expect(legacy.threshold!.dataSync()[0]).toBeCloseTo(1.4525632668544086, 6);
    expect(legacy.meta.notes.join(' ')).toMatch(/legacy/);
    expect(corrected.meta.notes.join(' ')).toMatch(/corrected/);
    // The SAELens folder with the legacy rule matches the native one.
    const lensLegacy = await loadSae(`${FIX}/sae-saelens`, { normScalingFactor: F, llamaScopeThreshold: 'legacy' });
    expect(Math.abs(lensLegacy.threshold!.dataSync()[0]! - 1.4525632668544086)).toBeLessThan(1e-5);
    const x = tf.tensor2d(readBin(`${FIX}/sae-saelens`, 'sae_in').data as Float32Array, [24, 64]);
    const l0 = (s: typeof corrected) => tf.sum(tf.step(s.encode(x))).dataSync()[0]!;
    expect(l0(legacy)).toBeLessThan(l0(corrected)); // higher θ → fewer active
    for (const s of [corrected, legacy, lensLegacy]) s.dispose();
  });

  it('SAELens standard (relu, apply_b_dec_to_input) and topk folders', async () => {
    const dIn = 8;
    const dSae = 32;
    const a = gemmaArrays(dIn, dSae, 11);
    const { threshold: _t, ...w } = a;
    void _t;
    for (const [arch, extra] of [
      ['standard', {}],
      ['topk', { k: 3 }],
    ] as const) {
      const d = path.join(dir, `lens-${arch}`);
      fs.mkdirSync(d);
      fs.writeFileSync(
        path.join(d, 'cfg.json'),
        JSON.stringify({ architecture: arch, d_in: dIn, d_sae: dSae, apply_b_dec_to_input: true, normalize_activations: 'none', metadata: { hook_name: 'blocks.3.hook_resid_post' }, ...extra }),
      );
      writeSafetensors(path.join(d, 'sae_weights.safetensors'), w);
      const sae = await loadSae(d);
      expect(sae.meta.layer).toBe(3);
      expect(sae.meta.architecture).toBe(arch === 'standard' ? 'relu' : 'topk');
      const x = rand(5 * dIn, 99, 2);
      const f = sae.encode(tf.tensor2d(x, [5, dIn])).dataSync();
      // reference in plain JS
      for (let r = 0; r < 5; r++) {
        const pre: number[] = [];
        for (let j = 0; j < dSae; j++) {
          let s = a.b_enc.data[j]!;
          for (let i = 0; i < dIn; i++) s += (x[r * dIn + i]! - a.b_dec.data[i]!) * a.W_enc.data[i * dSae + j]!;
          pre.push(s);
        }
        let want = pre.map((v) => Math.max(0, v));
        if (arch === 'topk') {
          const kth = [...pre].sort((p, q) => q - p)[2]!;
          want = pre.map((v) => (v >= kth ? Math.max(0, v) : 0));
          expect(want.filter((v) => v > 0).length).toBeLessThanOrEqual(3);
        }
        expect(maxAbsDiff(f.slice(r * dSae, (r + 1) * dSae), want)).toBeLessThanOrEqual(1e-5);
      }
      sae.dispose();
    }
  });

  it('slices from disk equal slices of the loaded SAE (plain and transposed storage)', async () => {
    for (const p of [`${FIX}/sae-gemmascope/params.npz`, `${FIX}/sae-saelens/raw_llamascope/L1R-8x`]) {
      const src = openSae(p);
      const sae = src.load();
      const idx = [5, 0, 77, 200, 3];
      const a = src.loadSlice(idx);
      const b = sliceSae(sae, idx);
      expect(maxAbsDiff(a.W_enc.dataSync(), b.W_enc.dataSync())).toBe(0);
      expect(maxAbsDiff(a.W_dec.dataSync(), b.W_dec.dataSync())).toBe(0);
      expect(maxAbsDiff(a.b_enc.dataSync(), b.b_enc.dataSync())).toBe(0);
      expect(maxAbsDiff(a.threshold!.dataSync(), b.threshold!.dataSync())).toBe(0);
      expect(maxAbsDiff(src.readDecoderRows(10, 20), tf.slice(sae.W_dec, [10, 0], [10, 64]).dataSync())).toBe(0);
      a.dispose();
      b.dispose();
      sae.dispose();
      src.close();
    }
  });
});

describe('gemma-scope tree, memory estimate, lazy SaeSet', () => {
  it('picks the L0 closest to the target per layer and reports it', async () => {
    const root = path.join(dir, 'gemma-scope-2b-pt-res');
    const l0s: Record<number, number[]> = { 0: [50, 90, 130], 1: [20, 105, 300], 3: [180, 400] };
    for (const [l, list] of Object.entries(l0s)) {
      for (const k of list) {
        const d = path.join(root, `layer_${l}`, 'width_16k', `average_l0_${k}`);
        fs.mkdirSync(d, { recursive: true });
        writeNpz(path.join(d, 'params.npz'), gemmaArrays(8, 16, Number(l) * 1000 + k));
      }
    }
    const picks = scanGemmaScopeTree(root);
    expect(picks.map((p) => [p.layer, p.l0])).toEqual([
      [0, 90],
      [1, 105],
      [3, 180],
    ]);
    expect(scanGemmaScopeTree(root, { targetL0: 40 }).map((p) => p.l0)).toEqual([50, 20, 180]);
    const sae = await loadSae(root, { layer: 1 });
    expect(sae.meta.id).toBe('gemmascope:layer_1/width_16k/average_l0_105');
    expect(sae.meta.hookPoint).toBe('blocks.1.hook_resid_post');
    // average_l0_105 is not the canonical 2B layer-1 16k pick (that is l0 102): Neuronpedia's id carries the L0
    expect(sae.meta.neuronpediaId).toBe('gemma-2-2b/1-gemmascope-res-16k__l0-105');
    expect(sae.meta.notes.join(' ')).toMatch(/picked average_l0_105.*20, 105, 300/);
    sae.dispose();

    const one = 4 * (2 * 8 * 16 + 16 + 8 + 16);
    expect(estimateSaeBytes(root)).toBe(3 * one);
    expect(estimateSaeBytes(root, { layers: [0, 3] })).toBe(2 * one);
    expect(estimateSaeBytes(`${FIX}/sae-gemmascope/params.npz`)).toBe(4 * (2 * 64 * 256 + 256 + 64 + 256));

    const set = SaeSet.open(root, { maxResident: 2 });
    expect(set.layers).toEqual([0, 1, 3]);
    expect(set.residentLayers()).toEqual([]);
    expect(set.estimateBytes()).toBe(3 * one);
    expect(set.maxLayerBytes()).toBe(one);
    set.get(0);
    set.get(1);
    set.get(3); // evicts 0
    expect(set.residentLayers().sort()).toEqual([1, 3]);
    set.dropAll();
    const before = tf.memory().numBytes;
    const seen: number[] = [];
    await set.forEachLayer((s, l) => {
      seen.push(l);
      expect(set.residentLayers()).toEqual([l]);
      expect(s.meta.layer).toBe(l);
    });
    expect(seen).toEqual([0, 1, 3]);
    expect(set.residentLayers()).toEqual([]);
    expect(tf.memory().numBytes).toBe(before);
    let rows = 0;
    for (const c of set.decoderChunks(1, 5)) rows += c.rows;
    expect(rows).toBe(16);
    set.close();
  });

  it('canonical trees, and the pick is reported in the layer meta of a SaeSet', () => {
    const root = path.join(dir, 'gemma-scope-2b-pt-res-canonical');
    for (const l of [4, 7]) {
      const d = path.join(root, `layer_${l}`, 'width_65k', 'canonical');
      fs.mkdirSync(d, { recursive: true });
      writeNpz(path.join(d, 'params.npz'), gemmaArrays(8, 16, l));
    }
    const set = SaeSet.open(root);
    expect(set.layers).toEqual([4, 7]);
    expect(set.meta(7).id).toBe('gemmascope:layer_7/width_65k/canonical');
    expect(set.meta(7).neuronpediaId).toBe('gemma-2-2b/7-gemmascope-res-65k');
    expect(set.meta(7).notes[0]).toMatch(/canonical/);
    set.close();
    const tree = SaeSet.open(path.join(dir, 'gemma-scope-2b-pt-res'), { targetL0: 120 });
    expect(tree.meta(0).notes[0]).toMatch(/picked average_l0_130/);
    tree.close();
  });

  it('opens a folder of per-layer SAE folders (Llama Scope style)', () => {
    const set = SaeSet.open(`${FIX}/sae-saelens/raw_llamascope`);
    expect(set.layers).toEqual([1]);
    expect(set.meta(1).format).toBe('llamascope');
    set.close();
  });
});
