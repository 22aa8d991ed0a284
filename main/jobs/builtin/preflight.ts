/**
 * `sae.preflight`: per layer of the project's SAEs (or the folders given) — bytes, d_sae, whether model + that
 * layer fits the backend's memory budget, Neuronpedia id, and the fit statistics (MSE, FVE, L0, dead fraction,
 * CE recovered) on a few chat-formatted suite prompts. The Models view's `saePreflight` (PreflightVM + extras);
 * also written to the run folder as preflight.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StepContext } from '../../../common/schemas/job.js';
import { initBackend, type BackendName } from '../../../workers/engine/backend.js';
import { loadSource, resolveSource, samplePrompts } from '../../../workers/features/source.js';
import { buildConversations, saePreflight, type PreflightReport } from '../../../workers/features/preflight.js';
import { SaeSet } from '../../../workers/sae/set.js';
import { deriveSkipPrefix } from '../../../workers/refusal/lens.js';
import { writeResultJson } from '../../../workers/refusal/runs.js';
import { PREFLIGHT_KIND, preflightFile } from '../../../common/results/job-files.js';

export interface PreflightParams {
  /** SAE folders or files (Gemma Scope tree, per-layer folders, one SAE); default: the source's SAEs. */
  folders?: string[];
  /** Prompts sampled per suite for the fit statistics (default 4; 0 = sizes only). */
  perSuite?: number;
  /** CE-loss recovered (three forwards per batch). Default true. */
  ce?: boolean;
  /** Tokens of the model's own reply appended to each prompt (default 16; 0 = prompts only). */
  replyTokens?: number;
  batchSize?: number;
  seed?: number;
  pipeline?: string;
  demo?: boolean;
  backend?: BackendName;
}

export type PreflightResult = PreflightReport & { model: string; source: string };

export async function preflight(params: PreflightParams, ctx: StepContext): Promise<PreflightResult> {
  ctx.progress('load', 0);
  const backend = await initBackend({ preference: params.backend });
  ctx.setBackend(backend.description);
  const src = resolveSource(ctx.projectDir, { pipeline: params.pipeline, demo: params.demo });
  ctx.log(`source: ${src.label}`);
  const { model, tokenizer, info, set, stopTokens } = await loadSource(src, ctx.cache);
  const folders = (params.folders ?? []).map((f) => f.trim()).filter(Boolean);
  const extra = folders.map((f) => SaeSet.open(path.isAbsolute(f) ? f : path.resolve(ctx.projectDir ?? process.cwd(), f)));
  try {
    const perSuite = Math.max(0, Math.floor(params.perSuite ?? 4));
    const prompts = perSuite ? samplePrompts(src.suites, perSuite, params.seed ?? 0, 'val') : [];
    ctx.progress('replies', 0);
    const conv = await buildConversations(
      model,
      prompts.map((p) => tokenizer.encodeInstruction(p.text)),
      { batchSize: params.batchSize ?? 8, maxNewTokens: params.replyTokens ?? 16, stopTokens, signal: ctx.signal },
    );
    ctx.log(`${prompts.length} conversations in ${conv.batches.length} batches`);
    const report = await saePreflight(model, info.weightBytes, extra.length ? extra : [set], conv, backend, {
      ce: params.ce ?? true,
      skipFirst: deriveSkipPrefix(tokenizer),
      signal: ctx.signal,
      onLayer: (done, of) => ctx.progress('fit', done / of),
    });
    const out: PreflightResult = { ...report, model: src.modelDir, source: folders.length ? folders.join(', ') : src.label };
    if (ctx.runDir) writeResultJson(preflightFile, path.join(ctx.runDir, 'preflight.json'), { kind: PREFLIGHT_KIND, schemaVersion: 1, ...out });
    return out;
  } finally {
    for (const s of extra) s.close();
  }
}
