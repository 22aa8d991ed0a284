/**
 * `refusal.playground`: one prompt, three greedy generations (base, features clamped, refusal direction
 * ablated) with the chosen features' per-token activations — the Playground view's `runPlayground`.
 * The result is returned (PlaygroundResultVM plus details) and written to the run folder as playground.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { displayTokens, loadSource, resolveSource } from '../../../workers/features/source.js';
import { parseFeatures, runPlayground, type PlaygroundColumn, type PlaygroundEdit, type PlaygroundPositions } from '../../../workers/playground/playground.js';
import type { AblationSites } from '../../../workers/refusal/hooks.js';

export interface PlaygroundParams {
  prompt: string;
  /** [[layer, index]], {layer, index} or "L{layer}/{index}". */
  features?: unknown[];
  /** 'multiply' (by amount) or 'value'/'set' (to amount). Default multiply. */
  mode?: 'multiply' | 'value' | 'set';
  /** c or v; default −3 (the paper's Gemma clamp). */
  amount?: number;
  /** Where the clamp applies; 'generation' is the view's word for 'generated'. Default all. */
  positions?: 'all' | 'prompt' | 'generation' | 'generated';
  maxNewTokens?: number;
  /** Model/SAEs/direction from this pipeline file instead of the newest discovery run / the demo. */
  pipeline?: string;
  demo?: boolean;
  /** Override the direction's ablation sites. */
  sites?: AblationSites;
  backend?: BackendName;
}

export interface PlaygroundResult {
  prompt: string;
  /** Feature keys L{layer}/{index}, in the order of every column's acts. */
  features: string[];
  columns: PlaygroundColumn[];
  edit: PlaygroundEdit;
  positions: PlaygroundPositions;
  maxNewTokens: number;
  direction: { from: string; layer: number | null; sites: AblationSites } | null;
  source: string;
  /** Why a column is missing (no refusal direction for this model). */
  notes: string[];
}

export async function playground(params: PlaygroundParams, ctx: StepContext): Promise<PlaygroundResult> {
  const prompt = typeof params.prompt === 'string' ? params.prompt : '';
  if (!prompt.trim()) throw new Error('the playground needs a prompt');
  const features = parseFeatures(params.features ?? []);
  const amount = params.amount ?? -3;
  if (!Number.isFinite(amount)) throw new Error(`amount must be a number (got ${String(params.amount)})`);
  const edit: PlaygroundEdit = params.mode === 'value' || params.mode === 'set' ? { mode: 'set', v: amount } : { mode: 'multiply', c: amount };
  const positions: PlaygroundPositions =
    params.positions === 'prompt' ? 'prompt' : params.positions === 'generation' || params.positions === 'generated' ? 'generated' : 'all';
  const maxNewTokens = Math.max(1, Math.min(1024, Math.floor(params.maxNewTokens ?? 64)));

  ctx.progress('load', 0);
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  const src = resolveSource(ctx.projectDir, { pipeline: params.pipeline, demo: params.demo });
  ctx.log(`source: ${src.label}`);
  const { model, tokenizer, set, stopTokens } = await loadSource(src, ctx.cache);
  const notes: string[] = [];
  const direction = src.direction ? { ...src.direction, sites: params.sites ?? src.direction.sites } : null;
  if (!direction) notes.push('no refusal direction for this model (run a discovery first): the ablated column is left out');
  else if (direction.vector.length !== model.config.dModel) throw new Error(`refusal direction has ${direction.vector.length} dims, the model ${model.config.dModel}`);

  const promptIds = tokenizer.encodeInstruction(prompt);
  ctx.progress('generate', 0.05);
  const columns = await runPlayground({
    model,
    set,
    promptIds,
    features,
    edit,
    positions,
    maxNewTokens,
    stopTokens,
    direction: direction ? { vector: direction.vector, sites: direction.sites } : null,
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    tokens: (ids) => displayTokens(tokenizer, ids),
    signal: ctx.signal,
    onColumn: (kind, done, of) => {
      ctx.log(`${kind}: done`);
      ctx.progress('generate', 0.05 + (0.95 * done) / of);
    },
  });
  const result: PlaygroundResult = {
    prompt,
    features: features.map((f) => `L${f.layer}/${f.index}`),
    columns,
    edit,
    positions,
    maxNewTokens,
    direction: direction ? { from: direction.from, layer: direction.layer, sites: direction.sites } : null,
    source: src.label,
    notes,
  };
  if (ctx.runDir) {
    fs.writeFileSync(path.join(ctx.runDir, 'playground.json'), JSON.stringify({ kind: 'refusal-workbench/playground', schemaVersion: 1, ...result }));
  }
  return result;
}
