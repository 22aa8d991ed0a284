/**
 * `sae info|encode|top`: inspect an SAE (and its memory before loading), encode activations from a .npy,
 * and print the top features per token of a prompt.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendInfo } from '../../workers/engine/backend.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { readNpy, writeNpy } from '../../workers/engine/io/npy.js';
import { detectLayout, estimateSaeBytes, loadSae, openSae, scanGemmaScopeTree, type LoadSaeOptions } from '../../workers/sae/load.js';
import { parseFlags, requireFlag, UsageError } from './args.js';

const USAGE = [
  'sae info   --sae PATH [--layer L] [--width W] [--target-l0 N] [--norm-scaling-factor X] [--llamascope-threshold corrected|legacy] [--json]',
  'sae encode --sae PATH --input ACTS.npy --out FEATS.npy [--layer L] [--norm-scaling-factor X] [--llamascope-threshold corrected|legacy] [--batch N]',
  'sae top    --model DIR --sae PATH --layer L (--prompt "text" [--chat] | --ids 2,17,33) [--k 5] [--json]',
].join('\n  ');

const SAE_FLAGS = {
  sae: { type: 'string' },
  layer: { type: 'string' },
  width: { type: 'string' },
  'target-l0': { type: 'string' },
  'norm-scaling-factor': { type: 'string' },
  'llamascope-threshold': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function num(v: string | undefined, name: string, check: (n: number) => boolean = Number.isFinite): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!check(n)) throw new UsageError(`--${name}: bad value "${v}"`);
  return n;
}

function saeOptions(values: Record<string, string | boolean | undefined>): LoadSaeOptions {
  const thr = values['llamascope-threshold'] as string | undefined;
  if (thr !== undefined && thr !== 'corrected' && thr !== 'legacy') throw new UsageError('--llamascope-threshold must be "corrected" or "legacy"');
  return {
    layer: num(values.layer as string | undefined, 'layer', (n) => Number.isInteger(n) && n >= 0),
    width: values.width as string | undefined,
    targetL0: num(values['target-l0'] as string | undefined, 'target-l0', (n) => n > 0),
    normScalingFactor: num(values['norm-scaling-factor'] as string | undefined, 'norm-scaling-factor', (n) => n > 0),
    llamaScopeThreshold: thr as LoadSaeOptions['llamaScopeThreshold'],
  };
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function backend(flag: string | undefined): Promise<BackendInfo> {
  const b = await initBackend({ preference: flag as BackendInfo['name'] | undefined });
  process.stderr.write(`backend: ${b.description}\n`);
  return b;
}

/** Open options for a given layer: a tree needs the layer; other layouts must agree with it. */
function layerOptions(p: string, o: LoadSaeOptions, layer: number | undefined): LoadSaeOptions {
  if (layer === undefined) return o;
  const layout = detectLayout(p);
  if (layout === 'gemmascope' || layout === 'gemmascope-tree') return { ...o, layer };
  const src = openSae(p, { ...o, layer: undefined });
  const own = src.meta.layer;
  src.close();
  if (own >= 0 && own !== layer) throw new UsageError(`the SAE at ${p} is for layer ${own} (${src.meta.hookPoint}), not --layer ${layer}`);
  return { ...o, layer };
}

async function info(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, SAE_FLAGS);
  const p = requireFlag(values.sae, 'sae');
  const o = saeOptions(values);
  const layout = detectLayout(p);
  if (layout === 'gemmascope-tree' && o.layer === undefined) {
    const picks = scanGemmaScopeTree(p, o);
    const total = estimateSaeBytes(p, o);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ layout, path: p, targetL0: o.targetL0 ?? 100, layers: picks, totalBytes: total }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`gemma-scope tree ${p}: ${picks.length} layers, target L0 ${o.targetL0 ?? 100}\n`);
    for (const c of picks) {
      process.stdout.write(Number.isNaN(c.l0) ? `  layer ${c.layer}: width_${c.width}/canonical\n` : `  layer ${c.layer}: width_${c.width}/average_l0_${c.l0}   (available: ${c.available.join(', ')})\n`);
    }
    process.stdout.write(`all layers loaded: ${gib(total)} float32; streaming needs one layer: ${gib(Math.max(...picks.map((c) => estimateSaeBytes(c.file))))}\n`);
    return 0;
  }
  const src = openSae(p, o);
  try {
    const m = src.meta;
    const bytes = src.estimateBytes();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ layout, ...m, bytes, files: src.files }, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${m.id}  (${layout})`,
      `  source        ${m.source}`,
      `  architecture  ${m.architecture}${m.k !== null ? ` (k=${m.k})` : ''}`,
      `  hook point    ${m.hookPoint || '(unknown: pass --layer)'}  layer ${m.layer}`,
      `  d_in × d_sae  ${m.dIn} × ${m.dSae}`,
      `  b_dec to input ${m.applyBDecToInput}`,
      `  neuronpedia   ${m.neuronpediaId ?? '-'}`,
      `  memory        ${gib(bytes)} float32 when loaded`,
      ...m.notes.map((n) => `  note          ${n}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    src.close();
  }
}

async function encode(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { ...SAE_FLAGS, input: { type: 'string' }, out: { type: 'string' }, batch: { type: 'string' } });
  const p = requireFlag(values.sae, 'sae');
  const input = requireFlag(values.input, 'input');
  const out = requireFlag(values.out, 'out');
  const chunk = num(values.batch, 'batch', (n) => Number.isInteger(n) && n > 0) ?? 1024;
  await backend(values.backend);
  const acts = readNpy(input);
  const d = acts.shape[acts.shape.length - 1];
  if (acts.shape.length < 1 || d === undefined) throw new FileFormatError(input, `expected a float array [N, d], got shape [${acts.shape}]`);
  const N = acts.data.length / d;
  const sae = await loadSae(p, { ...saeOptions(values), expectDModel: d });
  try {
    const w = sae.meta.dSae;
    const feats = new Float32Array(N * w);
    let l0 = 0;
    for (let r0 = 0; r0 < N; r0 += chunk) {
      const r1 = Math.min(N, r0 + chunk);
      const f = tf.tidy(() => sae.encode(tf.tensor2d(acts.data.subarray(r0 * d, r1 * d), [r1 - r0, d])));
      const fd = (await f.data()) as Float32Array;
      f.dispose();
      feats.set(fd, r0 * w);
      for (let i = 0; i < fd.length; i++) if (fd[i] !== 0) l0++;
    }
    writeNpy(out, [...acts.shape.slice(0, -1), w], feats);
    process.stderr.write(`${sae.meta.id}: encoded ${N} rows → [${[...acts.shape.slice(0, -1), w]}] in ${out}; mean L0 ${(l0 / Math.max(1, N)).toFixed(2)}\n`);
    for (const n of sae.meta.notes) process.stderr.write(`note: ${n}\n`);
    return 0;
  } finally {
    sae.dispose();
  }
}

async function top(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    ...SAE_FLAGS,
    model: { type: 'string' },
    prompt: { type: 'string' },
    ids: { type: 'string' },
    chat: { type: 'boolean' },
    k: { type: 'string' },
  });
  const modelDir = requireFlag(values.model, 'model');
  const p = requireFlag(values.sae, 'sae');
  const layer = num(requireFlag(values.layer, 'layer'), 'layer', (n) => Number.isInteger(n) && n >= 0)!;
  const k = num(values.k, 'k', (n) => Number.isInteger(n) && n > 0) ?? 5;
  if (!values.prompt && !values.ids) throw new UsageError('give --prompt "text" or --ids 2,17,33');
  await backend(values.backend);
  const { loadModel, hookNames } = await import('../../workers/model/index.js');
  const { model, tokenizer, config } = await loadModel(modelDir);
  const o = layerOptions(p, saeOptions(values), layer);
  const sae = await loadSae(p, { ...o, expectDModel: config.dModel });
  try {
    if (layer >= config.nLayers) throw new UsageError(`--layer ${layer}: the model has ${config.nLayers} layers`);
    let ids: number[];
    if (values.ids) {
      ids = values.ids.split(',').map((s) => {
        const n = Number(s.trim());
        if (!Number.isInteger(n) || n < 0 || n >= config.vocabSize) throw new UsageError(`--ids: bad token id "${s}"`);
        return n;
      });
    } else {
      if (!tokenizer) throw new FileFormatError(modelDir, 'no tokenizer.json: pass --ids instead of --prompt');
      ids = values.chat ? tokenizer.encodeInstruction(values.prompt!) : tokenizer.encode(values.prompt!, { addSpecialTokens: true });
    }
    const point = sae.meta.hookPoint || hookNames.residPost(layer);
    const r = model.forward({ inputIds: [ids] }, { cache: [point], logits: false, stopAtLayer: layer });
    const act = r.cache.get(point)!;
    const f = sae.encode(act);
    const { values: tv, indices: ti } = tf.topk(tf.reshape(f, [ids.length, sae.meta.dSae]) as tf.Tensor2D, Math.min(k, sae.meta.dSae));
    const vals = (await tv.data()) as Float32Array;
    const idx = (await ti.data()) as Int32Array;
    const l0s = (await tf.sum(tf.step(f), -1).data()) as Float32Array;
    tf.dispose([act, f, tv, ti, ...r.cache.values()]);
    const kk = Math.min(k, sae.meta.dSae);
    const toks = tokenizer ? tokenizer.tokens(ids) : ids.map(String);
    const rows = ids.map((id, t) => ({
      position: t,
      id,
      token: toks[t] ?? String(id),
      l0: l0s[t]!,
      top: Array.from({ length: kk }, (_, j) => ({ feature: idx[t * kk + j]!, activation: vals[t * kk + j]! })).filter((e) => e.activation > 0),
    }));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ sae: sae.meta.id, hookPoint: point, neuronpediaId: sae.meta.neuronpediaId, tokens: rows }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${sae.meta.id} at ${point}${sae.meta.neuronpediaId ? ` (neuronpedia ${sae.meta.neuronpediaId})` : ''}\n`);
    for (const r2 of rows) {
      const feats = r2.top.map((e) => `L${layer}/${e.feature}=${e.activation.toFixed(3)}`).join('  ');
      process.stdout.write(`${String(r2.position).padStart(4)} ${JSON.stringify(r2.token).padEnd(16)} L0=${String(r2.l0).padEnd(4)} ${feats || '(none active)'}\n`);
    }
    return 0;
  } finally {
    sae.dispose();
    model.dispose();
  }
}

export async function runSaeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`usage:\n  ${USAGE}\n`);
    return sub ? 0 : 2;
  }
  if (sub === 'info') return info(rest);
  if (sub === 'encode') return encode(rest);
  if (sub === 'top') return top(rest);
  throw new UsageError(`unknown sae subcommand "${sub}" (info, encode, top)\n  ${USAGE}`);
}

// Allow `tsx main/cli/sae.ts ...` directly.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === new URL(import.meta.url).pathname) {
  runSaeCommand(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
