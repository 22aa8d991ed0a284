import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../workers/engine/io/npy.js';
import { fixturesDir, maxAbsDiff, readBin, readJson, repoRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);
const bin = path.join(repoRoot, 'bin/refusal-workbench.mjs');

interface GenCase { prompt_input_ids: number[][]; prompt_attention_mask: number[][]; new_tokens: number[][] }

describe('command line: forward, generate, info', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-cli-'));

  it('generate --json prints new_tokens equal to the reference (left-padded Gemma batch)', async () => {
    const dir = path.join(fixturesDir, 'gemma2-tiny');
    const g = readJson<{ cases: GenCase[] }>(path.join(dir, 'generation.json')).cases[1]!;
    const ids = path.join(tmp, 'ids.json');
    fs.writeFileSync(ids, JSON.stringify({ input_ids: g.prompt_input_ids, attention_mask: g.prompt_attention_mask }));
    const { stdout } = await run('node', [bin, 'generate', '--model', dir, '--input', ids, '--max-new-tokens', '8', '--json']);
    const last = stdout.trim().split('\n').at(-1)!;
    expect(JSON.parse(last)).toEqual({ new_tokens: g.new_tokens });
  });

  it('forward writes logits.npy and resid_post arrays matching the reference', async () => {
    const dir = path.join(fixturesDir, 'llama31-tiny');
    const c = readJson<{ cases: { name: string; input_ids: number[][] }[] }>(path.join(dir, 'inputs.json')).cases[0]!;
    const ids = path.join(tmp, 'ids1.json');
    fs.writeFileSync(ids, JSON.stringify({ input_ids: c.input_ids }));
    const out = path.join(tmp, 'fw');
    await run('node', [bin, 'forward', '--model', dir, '--input', ids, '--out', out]);
    const logits = readNpy(path.join(out, 'logits.npy'));
    expect(logits.shape).toEqual([1, c.input_ids[0]!.length, 256]);
    const exp = readJson<{ cases: Record<string, Record<string, { file: string }>> }>(path.join(dir, 'expected.json')).cases[c.name]!;
    expect(maxAbsDiff(logits.data, readBin(path.join(dir, exp.logits!.file)))).toBeLessThan(5e-4);
    const r2 = readNpy(path.join(out, 'blocks.2.hook_resid_post.npy'));
    expect(r2.shape).toEqual([1, c.input_ids[0]!.length, 64]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).backend).toMatch(/wasm|cpu|webgpu|tensorflow/);
  });

  it('info reports architecture and parameters; a bad folder is a clear error', async () => {
    const { stdout } = await run('node', [bin, 'info', '--model', path.join(fixturesDir, 'gemma2-tiny'), '--json']);
    const info = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(info.architecture).toBe('Gemma2ForCausalLM');
    expect(info.parameters).toBe(164928);
    const err = await run('node', [bin, 'info', '--model', path.join(tmp, 'nope')]).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(/nope: model folder not found/);
  });
});
