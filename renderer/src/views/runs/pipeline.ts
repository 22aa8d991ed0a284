import type { PipelineParams } from '../types';

/**
 * The discovery pipeline's parameters as the form shows them. Keys mirror `DiscoveryParamsSchema`
 * (workers/refusal/pipeline.ts); `graph.*` keys are nested on submit. Defaults are the workbench's
 * (the paper's, with the reference defects fixed); hints name the paper's value where it differs.
 */
export interface ParamSpec {
  key: string;
  label: string;
  hint: string;
  type: 'number' | 'text' | 'bool' | 'select' | 'suite';
  default: number | string | boolean;
  options?: string[];
  min?: number;
  max?: number;
  step?: number;
  group: string;
}

/** Stages in the order the discovery step reports them (ctx.progress stage names; fractions are per stage). */
export const DISCOVERY_STAGES = ['backend', 'data', 'layer sweep', 'cosine pool', 'attribution', 'actdiff', 'generate', 'graph edges', 'clamp-and-measure'];

export const DISCOVERY_STEP = 'refusal.discover';

export const DISCOVERY_PARAMS: ParamSpec[] = [
  { group: 'Data', key: 'suites.harmful', label: 'Harmful suite', type: 'suite', default: '', hint: 'Held-out harmful prompts: rates, attribution and the direction (empty: the pipeline’s own).' },
  { group: 'Data', key: 'suites.harmless', label: 'Harmless suite', type: 'suite', default: '', hint: 'Harmless prompts for the direction (empty: the pipeline’s own).' },
  { group: 'Data', key: 'filterHarmless', label: 'Filter harmless', type: 'bool', default: true, hint: 'Keep harmless prompts only where the model does not refuse (first token).' },
  { group: 'Data', key: 'filterHarmful', label: 'Filter harmful', type: 'bool', default: false, hint: 'Keep harmful prompts only where the model refuses.' },
  { group: 'Direction', key: 'layer', label: 'Direction layer ℓ*', type: 'text', default: 'auto', hint: '"auto" sweeps layers by ablation effectiveness; the paper uses 15 (Gemma), 11 (Llama).' },
  { group: 'Direction', key: 'sweepMaxLayerFrac', label: 'Sweep up to (fraction of L)', type: 'number', default: 0.8, min: 0, max: 1, step: 0.05, hint: 'Candidate layers for the sweep: below this fraction of the depth (Arditi: 0.8).' },
  { group: 'Direction', key: 'directionFrom', label: 'Direction from', type: 'select', default: 'eval', options: ['eval', 'train'], hint: 'Difference in means on the eval prompts (reference) or a separate train split.' },
  { group: 'Direction', key: 'sweepScore', label: 'Sweep score', type: 'select', default: 'judge', options: ['judge', 'first-token'], hint: 'Judge generations under ablation (reference) or only the greedy first token (faster).' },
  { group: 'Direction', key: 'sweepPrompts', label: 'Sweep prompts', type: 'number', default: 32, min: 1, hint: 'Harmful prompts generated per candidate layer in the sweep.' },
  { group: 'Direction', key: 'ablationSites', label: 'Ablation sites', type: 'select', default: 'resid_post', options: ['resid_post', 'arditi'], hint: 'resid_post (reference) or Arditi’s resid_pre + attn_out + mlp_out.' },
  { group: 'Features', key: 'k', label: 'Cosine pool K', type: 'number', default: 10, min: 1, hint: 'Features per layer kept by decoder cosine with the refusal direction.' },
  { group: 'Features', key: 'kStar', label: 'K* selected', type: 'number', default: 20, min: 1, hint: 'Features selected by mean attribution over non-BOS positions.' },
  { group: 'Features', key: 'selectionPositions', label: 'Selection positions', type: 'select', default: 'skipPrefix', options: ['skipPrefix', 'nonBos'], hint: 'K* averages attribution after the template prefix (default; BOS + Llama-3 system block) or over every non-BOS token (keeps the preamble, as the reference).' },
  { group: 'Features', key: 'positions', label: 'Positions', type: 'select', default: 'default', options: ['default', 'all'], hint: 'Which positions aggregate attribution: non-pad, non-BOS (default) or all.' },
  { group: 'Attribution', key: 'steps', label: 'IG steps', type: 'number', default: 10, min: 1, max: 200, hint: 'IG steps — more steps, smoother attribution, linear cost.' },
  { group: 'Attribution', key: 'alphaRule', label: 'IG α rule', type: 'select', default: 'trapezoid', options: ['trapezoid', 'midpoint', 'left'], hint: 'Trapezoid on α = 0…1 (default); the reference is the left sum α = 0…0.9.' },
  { group: 'Attribution', key: 'jToken', label: 'Metric token', type: 'select', default: 'argmax', options: ['argmax', 'non-refusal'], hint: 'Logit of the ablated run’s first token (reference) or its best non-refusal token, minus “I”.' },
  { group: 'Attribution', key: 'errorTerm', label: 'Error term', type: 'select', default: 'ablated', options: ['ablated', 'compat'], hint: 'Patched SAE error from the ablated activation (fixed) or the reference’s.' },
  { group: 'Attribution', key: 'attributionPath', label: 'Attribution path', type: 'select', default: 'shortcut', options: ['shortcut', 'literal'], hint: 'Shortcut (same numbers, faster) or the literal splice.' },
  { group: 'Attribution', key: 'laBatchSize', label: 'Attribution batch', type: 'number', default: 4, min: 1, hint: 'Prompts per attribution batch; memory grows with it (paper CLI: 3).' },
  { group: 'Attribution', key: 'apCompatMisaligned', label: 'AP reference misalignment', type: 'bool', default: false, hint: 'Reproduce the reference’s misaligned per-sample AP sets (off: fixed).' },
  { group: 'Intervention', key: 'clampValue', label: 'Clamp multiplier c', type: 'text', default: 'auto', hint: '"auto": −3 for Gemma, −1 for Llama (the paper’s); or a number.' },
  { group: 'Intervention', key: 'clampPositions', label: 'Clamp positions', type: 'select', default: 'all', options: ['all', 'prompt', 'generated'], hint: 'Every position and decoding step (paper), or only one part.' },
  { group: 'Intervention', key: 'clampPath', label: 'Clamp path', type: 'select', default: 'sparse', options: ['sparse', 'literal'], hint: 'Sparse feature slice (same numbers, faster) or the literal SAE splice.' },
  { group: 'Intervention', key: 'setKind', label: 'Harmful set kind', type: 'select', default: 'local', options: ['local', 'global'], hint: 'Clamp each harmful prompt with its own set (paper) or everyone with the global set.' },
  { group: 'Intervention', key: 'induceValues', label: 'Induction values v', type: 'text', default: '', hint: 'Set the features to each v on harmless prompts to induce refusal (paper Gemma 10…30); empty: skip.' },
  { group: 'Generation', key: 'maxNewTokens', label: 'Max new tokens', type: 'number', default: 32, min: 1, hint: 'Greedy decoding length for the judges (paper: 256).' },
  { group: 'Generation', key: 'genBatchSize', label: 'Generation batch', type: 'number', default: 16, min: 1, hint: 'Prompts generated together; larger is faster if memory allows.' },
  { group: 'Generation', key: 'stopRule', label: 'Stop at', type: 'select', default: 'eos+eot', options: ['eos+eot', 'eos'], hint: 'EOS or the end-of-turn token (fixed), or EOS only (reference).' },
  { group: 'Evaluation', key: 'sideEffects', label: 'Side effects (CE)', type: 'bool', default: false, hint: 'CE loss on the base model’s own harmless rollouts under each clamp (paper §4.1).' },
  { group: 'Evaluation', key: 'ceNormalise', label: 'CE normalisation', type: 'select', default: 'labels', options: ['labels', 'compat'], hint: 'Mean over label tokens (fixed) or over the padded batch (reference).' },
  { group: 'Evaluation', key: 'methods', label: 'Methods', type: 'text', default: 'base,cossim_ap,cossim,actdiff,ap,as,random', hint: 'Conditions compared, each the same size as K*; random is the control.' },
  { group: 'Experiments', key: 'evaluateDirection', label: 'Other harmful suites', type: 'select', default: 'own', options: ['own', 'run'], hint: 'Evaluation suites get their own direction (reference: one V_R per dataset) or the run’s.' },
  { group: 'Experiments', key: 'suffixGoals', label: 'Suffix goals', type: 'number', default: 20, min: 1, hint: 'Goals the suffix analysis tries.' },
  { group: 'Experiments', key: 'suffixesPerGoal', label: 'Suffixes per goal', type: 'number', default: 4, min: 1, hint: 'Suffixes tried per goal until one jailbreaks it.' },
  { group: 'Experiments', key: 'minPairShare', label: 'Min pair share', type: 'number', default: 0.5, min: 0, max: 1, step: 0.05, hint: 'Warn when fewer adversarial rows than this share have a vanilla pair.' },
  { group: 'Experiments', key: 'bootstrapReps', label: 'Bootstrap resamples', type: 'number', default: 1000, min: 1, hint: 'Resamples for the CE intervals.' },
  { group: 'Graph', key: 'graph.enabled', label: 'Build the graph', type: 'bool', default: true, hint: 'Upstream → downstream edges among the selected features.' },
  { group: 'Graph', key: 'graph.priorLayers', label: 'Prior layers', type: 'number', default: 2, min: 1, hint: 'How many layers below a feature its upstream candidates may sit.' },
  { group: 'Graph', key: 'graph.stopGradient', label: 'Stop-gradient', type: 'select', default: 'features', options: ['features', 'none'], hint: 'Detach intermediate SAE features (direct effect) or none (total effect).' },
  { group: 'Graph', key: 'graph.clampMeasure', label: 'Clamp-and-measure edges', type: 'bool', default: true, hint: 'Also measure edges by clamping each upstream feature.' },
  { group: 'Graph', key: 'graph.nodes', label: 'Graph nodes', type: 'number', default: 20, min: 1, hint: 'Top features by attribution drawn as nodes.' },
  { group: 'Graph', key: 'graph.samples', label: 'Graph samples', type: 'number', default: 16, min: 1, hint: 'Prompts used for the edge computation.' },
  { group: 'Run', key: 'seed', label: 'Seed', type: 'number', default: 42, hint: 'Seeds sampling and the random control (paper: 42).' },
];

export function defaultParams(specs = DISCOVERY_PARAMS): PipelineParams {
  const p: PipelineParams = {};
  for (const s of specs) p[s.key] = s.default;
  return p;
}

/** Stored pipeline params (nested, `layer: null` …) → flat form values, over the defaults. */
export function formFromPipelineParams(stored: Record<string, unknown> | null | undefined, specs = DISCOVERY_PARAMS): PipelineParams {
  const p = defaultParams(specs);
  if (!stored) return p;
  for (const s of specs) {
    if (s.key.startsWith('suites.')) continue;
    const path = s.key.split('.');
    let v: unknown = stored;
    for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (v === undefined) continue;
    if (v === null) p[s.key] = 'auto';
    else if (Array.isArray(v)) p[s.key] = v.join(',');
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') p[s.key] = v;
  }
  return p;
}

/** Flat form values → `{params, suites}` for a pipeline file: nested graph.*, null for "auto", lists split. */
export function toPipeline(form: PipelineParams): { params: Record<string, unknown>; suites: { harmful?: string; harmless?: string } } {
  const params: Record<string, unknown> = {};
  const suites: { harmful?: string; harmless?: string } = {};
  for (const [k, v] of Object.entries(form)) {
    if (k.startsWith('suites.')) {
      if (v) suites[k.slice(7) as 'harmful' | 'harmless'] = String(v);
      continue;
    }
    let val: unknown = v;
    if (k === 'layer' || k === 'clampValue') val = String(v).trim() === 'auto' || String(v).trim() === '' ? null : Number(v);
    else if (k === 'methods') val = String(v).split(',').map((x) => x.trim()).filter(Boolean);
    else if (k === 'induceValues') val = String(v).split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    const path = k.split('.');
    if (path.length === 2) ((params[path[0]] ??= {}) as Record<string, unknown>)[path[1]] = val;
    else params[k] = val;
  }
  return { params, suites };
}

const METHODS = ['base', 'cossim_ap', 'cossim', 'actdiff', 'ap', 'as', 'random'];

/** Problems with a parameter set, keyed by parameter (empty = valid). */
export function validateParams(p: PipelineParams, specs = DISCOVERY_PARAMS): Record<string, string> {
  const errs: Record<string, string> = {};
  for (const s of specs) {
    const v = p[s.key];
    if (s.type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) errs[s.key] = 'a number is needed';
      else if (s.min !== undefined && v < s.min) errs[s.key] = `at least ${s.min}`;
      else if (s.max !== undefined && v > s.max) errs[s.key] = `at most ${s.max}`;
      else if (!s.step && !Number.isInteger(v)) errs[s.key] = 'a whole number';
    }
  }
  if (!/^(auto|\d+)$/.test(String(p.layer ?? 'auto').trim())) errs.layer = '"auto" or a layer number';
  if (!/^(auto|-?\d+(\.\d+)?)$/.test(String(p.clampValue ?? 'auto').trim())) errs.clampValue = '"auto" or a number';
  const iv = String(p.induceValues ?? '').trim();
  if (iv && !iv.split(',').every((x) => x.trim() !== '' && Number.isFinite(Number(x)))) errs.induceValues = 'comma-separated numbers';
  const ms = String(p.methods ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!ms.length || ms.some((m) => !METHODS.includes(m))) errs.methods = `a list of ${METHODS.join(', ')}`;
  return errs;
}
