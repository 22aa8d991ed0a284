/** `forward`, `generate` and `info`: the engine on a local Hugging Face folder. */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { initBackend, type BackendInfo } from '../../workers/engine/backend.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { writeNpy } from '../../workers/engine/io/npy.js';
import { hookNames, inspectModel, loadModel, type TokenBatch } from '../../workers/model/index.js';
import { intFlag, parseFlags, requireFlag, UsageError } from './args.js';
import { FILE_LIMITS, readUserJson } from '../../workers/engine/io/user-file.js';

const IdsFileSchema = z.object({
  input_ids: z.array(z.array(z.number().int().nonnegative())).min(1),
  attention_mask: z.array(z.array(z.number().int().min(0).max(1))).optional(),
  position_ids: z.array(z.array(z.number().int())).optional(),
});

function readIdsFile(file: string): TokenBatch {
  const raw = readUserJson(file, { maxBytes: FILE_LIMITS.suite, what: 'token-ids file' });
  const p = IdsFileSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0]!;
    throw new FileFormatError(file, `${i.path.join('.') || '(root)'}: ${i.message} (expected {"input_ids": [[...]], "attention_mask"?: [[...]], "position_ids"?: [[...]]})`);
  }
  return { inputIds: p.data.input_ids, attentionMask: p.data.attention_mask, positionIds: p.data.position_ids };
}

async function backend(flag: string | undefined): Promise<BackendInfo> {
  const b = await initBackend({ preference: flag as BackendInfo['name'] | undefined });
  process.stderr.write(`backend: ${b.description}\n`);
  return b;
}

export async function forwardCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' },
  });
  const b = await backend(values.backend);
  const { model, config } = await loadModel(requireFlag(values.model, 'model'));
  const batch = readIdsFile(requireFlag(values.input, 'input'));
  const outDir = requireFlag(values.out, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const points = Array.from({ length: config.nLayers }, (_, l) => hookNames.residPost(l));
  const r = model.forward(batch, { cache: points });
  writeNpy(path.join(outDir, 'logits.npy'), r.logits!.shape, (await r.logits!.data()) as Float32Array);
  for (const p of points) {
    const t = r.cache.get(p)!;
    writeNpy(path.join(outDir, `${p}.npy`), t.shape, (await t.data()) as Float32Array);
  }
  tf.dispose([r.logits!, ...r.cache.values()]);
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({ kind: 'forward-output', schemaVersion: 1, model: path.resolve(values.model!), backend: b.name, backendDescription: b.description }, null, 2));
  process.stdout.write(`wrote logits.npy and ${points.length} resid_post arrays to ${outDir}\n`);
  return 0;
}

export async function generateCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' }, input: { type: 'string' }, prompt: { type: 'string' }, chat: { type: 'boolean' },
    'max-new-tokens': { type: 'string' }, json: { type: 'boolean' }, stop: { type: 'boolean' }, backend: { type: 'string' },
    temperature: { type: 'string' }, seed: { type: 'string' },
  });
  await backend(values.backend);
  const { model, tokenizer } = await loadModel(requireFlag(values.model, 'model'));
  const maxNewTokens = intFlag(values['max-new-tokens'], 'max-new-tokens', 64);
  const temperature = values.temperature ? Number(values.temperature) : 0;
  const sampling = temperature > 0 ? { temperature, seed: intFlag(values.seed, 'seed', 0) } : undefined;
  let batch: TokenBatch;
  let stopTokens: number[] | undefined;
  if (values.input) {
    batch = readIdsFile(values.input);
    // Raw ids behave like the reference fixtures: exactly N tokens unless --stop is given.
    if (!values.stop) stopTokens = [];
  } else if (values.prompt !== undefined) {
    if (!tokenizer) throw new UsageError(`${values.model}: no tokenizer.json, so --prompt cannot be used (pass --input IDS.json)`);
    const ids = values.chat ? tokenizer.encodeInstruction(values.prompt) : tokenizer.encode(values.prompt);
    batch = { inputIds: [ids] };
  } else {
    throw new UsageError('give --input IDS.json or --prompt "text" [--chat]');
  }
  const r = await model.generate(batch, { maxNewTokens, stopTokens, sampling });
  if (tokenizer && !values.json) {
    for (const row of r.newTokens) process.stdout.write(`${tokenizer.decode(row)}\n`);
  } else if (!values.json) {
    for (const row of r.newTokens) process.stdout.write(`${row.join(' ')}\n`);
  }
  if (values.json) {
    if (tokenizer) process.stdout.write(`${JSON.stringify({ text: r.newTokens.map((t) => tokenizer.decode(t)) })}\n`);
    process.stdout.write(`${JSON.stringify({ new_tokens: r.newTokens })}\n`);
  }
  return 0;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 2)} GiB`;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { model: { type: 'string' }, json: { type: 'boolean' }, batch: { type: 'string' }, seq: { type: 'string' } });
  const info = inspectModel(requireFlag(values.model, 'model'));
  const c = info.config;
  const batch = intFlag(values.batch, 'batch', 8);
  const seq = intFlag(values.seq, 'seq', 128);
  const summary = {
    architecture: info.architecture,
    layers: c.nLayers,
    d_model: c.dModel,
    heads: c.nHeads,
    kv_heads: c.nKvHeads,
    head_dim: c.headDim,
    d_mlp: c.dMlp,
    vocab: c.vocabSize,
    dtype: info.dtypes,
    parameters: info.parameters,
    weight_bytes_float32: info.weightBytes,
    memory_estimate_bytes: { batch, seq, total: info.weightBytes + info.activationBytes(batch, seq) },
    files: info.files.map((f) => path.basename(f)),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      [
        `${info.architecture} (${c.architecture}) in ${info.dir}`,
        `  layers ${c.nLayers}, d_model ${c.dModel}, heads ${c.nHeads} (kv ${c.nKvHeads}, head_dim ${c.headDim}), d_mlp ${c.dMlp}, vocab ${c.vocabSize}`,
        `  stored as ${info.dtypes.join(', ')}; ${info.parameters.toLocaleString('en-US')} parameters`,
        `  memory: ${gib(info.weightBytes)} float32 weights + ~${gib(info.activationBytes(batch, seq))} activations at batch ${batch} × ${seq} tokens`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}
