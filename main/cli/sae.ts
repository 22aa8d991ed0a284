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
import { resolveHfPath } from '../../workers/engine/io/hf-cache.js';
import { openRegistrySae } from '../../workers/sae/open-release.js';
import { locateRelease, releaseSummary, saeRegistry } from '../../workers/sae/releases.js';
import { SaeSet } from '../../workers/sae/set.js';
import { parseFlags, requireFlag, UsageError } from './args.js';

const USAGE = [
  'sae releases [--json]   (the SAE release registry)',
  'sae info   --release ID [--layer L] [--width W] [--l0 K | --sae-id ID] [--cache-dir DIR] [--json]   (finds it in the HF cache, or prints the download command)',
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
  release: { type: 'string' },
  'sae-id': { type: 'string' },
  l0: { type: 'string' },
  'cache-dir': { type: 'string' },
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

function releases(argv: string[]): number {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } });
  const reg = saeRegistry();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(reg.releases.map(releaseSummary), null, 2)}\n`);
    return 0;
  }
  for (const r of reg.releases.map(releaseSummary)) {
    process.stdout.write(`${r.id.padEnd(34)} ${r.title} — ${r.repoId}; layers ${r.layers[0]}–${r.layers[r.layers.length - 1]}; widths ${r.widths.join(', ') || '-'}\n`);
  }
  for (const n of reg.notLoadable) process.stdout.write(`${n.id.padEnd(34)} (not loadable: ${n.reason})\n`);
  return 0;
}

/** `sae info --release`: the registry lookup in the HF cache (or the exact download command). */
function releaseInfo(values: Record<string, string | boolean | undefined>): number {
  const layer = num(values.layer as string | undefined, 'layer', (n) => Number.isInteger(n) && n >= 0);
  const located = locateRelease(
    {
      release: values.release as string,
      layers: layer === undefined ? undefined : [layer],
      width: values.width as string | undefined,
      l0: num(values.l0 as string | undefined, 'l0', (n) => n > 0),
      targetL0: num(values['target-l0'] as string | undefined, 'target-l0', (n) => n > 0),
      saeId: values['sae-id'] as string | undefined,
    },
    { cacheDir: values['cache-dir'] as string | undefined },
  );
  const rows = located.saes.map((s) => {
    if (!s.path) return { ...s.entry, path: null, problem: s.problem, bytes: null, dIn: null, dSaeLoaded: null };
    const src = openRegistrySae(located, s.entry);
    try {
      return { ...s.entry, path: s.path, problem: null, bytes: src.estimateBytes(), dIn: src.meta.dIn, dSaeLoaded: src.meta.dSae, notes: src.meta.notes };
    } finally {
      src.close();
    }
  });
  if (values.json) {
    const { release, ...rest } = located;
    process.stdout.write(`${JSON.stringify({ ...rest, release: releaseSummary(release), saes: rows }, null, 2)}\n`);
    return located.complete ? 0 : 3;
  }
  const r = located.release;
  process.stdout.write(`${r.id}: ${r.title} (${r.repoId}) in ${located.cacheDir}${located.commit ? ` @ ${located.commit.slice(0, 12)}` : ''}\n`);
  for (const row of rows) {
    process.stdout.write(
      `  layer ${String(row.layer).padEnd(3)} ${row.id.padEnd(36)} ${row.path ? `${row.dIn} × ${row.dSaeLoaded}  ${gib(row.bytes!)}  ${row.path}` : `MISSING: ${row.problem}`}\n` +
        `            hook ${row.hook}  neuronpedia ${row.neuronpedia ?? '-'}${row.normScalingFactor ? `  norm scaling factor ${row.normScalingFactor}` : ''}\n`,
    );
  }
  for (const n of located.notes) process.stdout.write(`  note ${n}\n`);
  if (located.download) process.stdout.write(`download the missing files with:\n  ${located.download}\n`);
  return located.complete ? 0 : 3;
}

async function info(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, SAE_FLAGS);
  if (values.release) return releaseInfo(values);
  const p = resolveHfPath(requireFlag(values.sae, 'sae')).path;
  const o = saeOptions(values);
  const layout = detectLayoutOrNull(p);
  if (layout === null) return setInfo(p, o, Boolean(values.json));
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

function detectLayoutOrNull(p: string): ReturnType<typeof detectLayout> | null {
  try {
    return detectLayout(p);
  } catch (e) {
    if (e instanceof FileFormatError && fs.existsSync(p) && fs.statSync(p).isDirectory()) return null;
    throw e;
  }
}

/** A folder of per-layer SAE folders (a Llama Scope repo snapshot): one line per layer. */
function setInfo(p: string, o: LoadSaeOptions, json: boolean): number {
  const set = SaeSet.open(p, o);
  try {
    const rows = set.layers.map((l) => {
      const m = set.meta(l);
      return { layer: l, id: m.id, format: m.format, hookPoint: m.hookPoint, dIn: m.dIn, dSae: m.dSae, neuronpediaId: m.neuronpediaId, bytes: set.source(l).estimateBytes(), source: m.source };
    });
    if (json) {
      process.stdout.write(`${JSON.stringify({ layout: 'folder of SAEs', path: p, layers: rows }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${p}: ${rows.length} SAEs\n`);
    for (const r of rows) process.stdout.write(`  layer ${String(r.layer).padEnd(3)} ${r.id}  ${r.format}  ${r.dIn} × ${r.dSae}  ${gib(r.bytes)}  ${r.hookPoint}  neuronpedia ${r.neuronpediaId ?? '-'}\n`);
    return 0;
  } finally {
    set.close();
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
  if (sub === 'releases') return releases(rest);
  if (sub === 'encode') return encode(rest);
  if (sub === 'top') return top(rest);
  throw new UsageError(`unknown sae subcommand "${sub}" (releases, info, encode, top)\n  ${USAGE}`);
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
