/**
 * config.json values no stored tensor supports are refused naming the field, before the loader sizes
 * anything from them (issue #19: num_hidden_layers 1e6 / 1e9 / 1e12 hung).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../../workers/model/loader.js';
import { repoRoot } from '../helpers/fixtures.js';

const DEMO = path.join(repoRoot, 'assets', 'demo', 'model');
let dir: string;
let base: Record<string, unknown>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-cfg-'));
  for (const f of fs.readdirSync(DEMO)) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
  base = JSON.parse(fs.readFileSync(path.join(DEMO, 'config.json'), 'utf8'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function withConfig(patch: Record<string, unknown>): () => unknown {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...base, ...patch }));
  return () => inspectModel(dir);
}

describe('config.json is checked against the stored tensors', () => {
  it('the demo model itself passes', () => {
    expect(withConfig({})()).toMatchObject({ config: { nLayers: base.num_hidden_layers } });
  });

  for (const n of [1e6, 1e9, 1e12]) {
    it(`num_hidden_layers ${n} is refused naming the field (finding: hang)`, () => {
      expect(withConfig({ num_hidden_layers: n })).toThrow(new RegExp(`config.json: num_hidden_layers is ${n} but the weights hold ${base.num_hidden_layers} layers`));
    });
  }

  it('fewer layers than stored, and wrong widths, are refused naming the field', () => {
    expect(withConfig({ num_hidden_layers: 1 })).toThrow(/num_hidden_layers is 1 but the weights hold/);
    expect(withConfig({ vocab_size: 10_000_000 })).toThrow(/vocab_size is 10000000 but model.embed_tokens.weight has \d+ rows/);
    expect(withConfig({ hidden_size: 1_000_000, head_dim: null })).toThrow(/hidden_size|head_dim/);
    expect(withConfig({ intermediate_size: 1e9 })).toThrow(/intermediate_size is 1000000000 but model.layers.0.mlp.gate_proj.weight has \d+ rows/);
    expect(withConfig({ num_attention_heads: 4096, num_key_value_heads: 4096 })).toThrow(/num_attention_heads is 4096|head_dim/);
  });

  it('a config.json that is /dev/zero-sized or not a regular file is refused by the bounded reader', () => {
    const cfg = path.join(dir, 'config.json');
    fs.rmSync(cfg);
    fs.mkdirSync(cfg);
    try {
      expect(() => inspectModel(dir)).toThrow(/config.json must be a regular file, this is a directory/);
    } finally {
      fs.rmdirSync(cfg);
    }
    fs.writeFileSync(cfg, Buffer.alloc(9 * 1024 * 1024, 0x20));
    expect(() => inspectModel(dir)).toThrow(/config.json is 9 MiB, larger than the 8 MiB limit/);
  });
});
