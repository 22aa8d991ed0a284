import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSaeCommand } from '../../main/cli/sae.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { readNpy, writeNpy } from '../../workers/engine/io/npy.js';
import { FIX, activeSets, maxAbsDiff, readBin, tmpDir } from './helpers.js';

let dir: string;

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await runSaeCommand(argv), out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

beforeAll(() => {
  dir = tmpDir('cli');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sae CLI', () => {
  it('info prints the layout, memory and the loader notes', async () => {
    const r = await capture(['info', '--sae', `${FIX}/sae-saelens/raw_llamascope/L1R-8x`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/llamascope/);
    expect(r.out).toMatch(/64 × 512/);
    expect(r.out).toMatch(/threshold rule corrected/);
    const j = JSON.parse((await capture(['info', '--sae', `${FIX}/sae-gemmascope/params.npz`, '--layer', '2', '--json'])).out);
    expect(j.hookPoint).toBe('blocks.2.hook_resid_post');
    expect(j.bytes).toBe(4 * (2 * 64 * 256 + 256 + 64 + 256));
  });

  it('encode writes [N, w] features matching the fixtures (with the factor option)', async () => {
    for (const [p, fdir, extra] of [
      [`${FIX}/sae-saelens`, `${FIX}/sae-saelens`, ['--norm-scaling-factor', '0.7629012908566744']],
      [`${FIX}/sae-saelens/raw_llamascope/L1R-8x`, `${FIX}/sae-saelens`, ['--llamascope-threshold', 'corrected']],
      [`${FIX}/sae-gemmascope/params.npz`, `${FIX}/sae-gemmascope`, []],
    ] as const) {
      const input = path.join(dir, 'acts.npy');
      const out = path.join(dir, 'feats.npy');
      writeNpy(input, [24, 64], readBin(fdir, 'sae_in').data as Float32Array);
      const r = await capture(['encode', '--sae', p, '--input', input, '--out', out, '--batch', '7', ...extra]);
      expect(r.code).toBe(0);
      const f = readNpy(out);
      const w = f.shape[1]!;
      expect(f.shape[0]).toBe(24);
      const want = readBin(fdir, 'feature_acts').data;
      expect(maxAbsDiff(f.data, want)).toBeLessThanOrEqual(1e-4);
      expect(activeSets(f.data, 24, w)).toEqual(activeSets(want, 24, w));
    }
  });

  it('encode without the needed norm scaling factor fails naming cfg.json; d mismatch names the SAE', async () => {
    const input = path.join(dir, 'acts32.npy');
    writeNpy(input, [3, 64], new Float32Array(3 * 64));
    await expect(runSaeCommand(['encode', '--sae', `${FIX}/sae-saelens`, '--input', input, '--out', path.join(dir, 'x.npy')])).rejects.toThrow(
      /sae-saelens\/cfg\.json.*norm scaling factor/,
    );
    const bad = path.join(dir, 'acts-bad.npy');
    writeNpy(bad, [3, 32], new Float32Array(3 * 32));
    await expect(runSaeCommand(['encode', '--sae', `${FIX}/sae-gemmascope/params.npz`, '--input', bad, '--out', path.join(dir, 'y.npy')])).rejects.toThrow(FileFormatError);
  });

  it('top prints the top features per token on the real engine', async () => {
    const r = await capture(['top', '--model', `${FIX}/gemma2-tiny`, '--sae', `${FIX}/sae-gemmascope/params.npz`, '--layer', '2', '--ids', '2,45,77,100', '--k', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.hookPoint).toBe('blocks.2.hook_resid_post');
    expect(j.tokens).toHaveLength(4);
    for (const t of j.tokens) {
      expect(t.top.length).toBeLessThanOrEqual(3);
      expect(t.top[0].activation).toBeGreaterThanOrEqual(t.top[t.top.length - 1].activation);
    }
    await expect(runSaeCommand(['top', '--model', `${FIX}/llama31-tiny`, '--sae', `${FIX}/sae-saelens/raw_llamascope/L1R-8x`, '--layer', '2', '--ids', '1,5'])).rejects.toThrow(/layer 1/);
  });
});
