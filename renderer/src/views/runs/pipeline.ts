import type { PipelineParams } from '../types';

/** One parameter of the discovery pipeline: default from the paper, one-line hint. */
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

/** Pipeline stages, in order, as the discovery step reports them. */
export const DISCOVERY_STAGES = ['data', 'direction', 'pool', 'attribution', 'selection', 'intervention', 'judges', 'side effects', 'graph'];

export const DISCOVERY_STEP = 'refusal.discover';

/** Every parameter of the discovery pipeline (METHOD.md §3; defaults from the paper, fixes on by default). */
export const DISCOVERY_PARAMS: ParamSpec[] = [
  { group: 'Data', key: 'harmfulSuite', label: 'Harmful suite', type: 'suite', default: '', hint: 'Prompts the model should refuse; kept only where it does (first-token filter).' },
  { group: 'Data', key: 'harmlessSuite', label: 'Harmless suite', type: 'suite', default: '', hint: 'Prompts it should answer; kept only where it does not refuse.' },
  { group: 'Data', key: 'nTrain', label: 'Train prompts per side', type: 'number', default: 128, min: 1, hint: 'Harmful and harmless prompts for the direction and attribution (paper: 128 + 128).' },
  { group: 'Data', key: 'nHarmfulVal', label: 'Harmful val', type: 'number', default: 32, min: 1, hint: 'Held-out harmful prompts for the layer sweep (paper: 32).' },
  { group: 'Data', key: 'nHarmlessVal', label: 'Harmless val', type: 'number', default: 32, min: 1, hint: 'Held-out harmless prompts for induced-refusal checks (paper: 32).' },
  { group: 'Data', key: 'nTest', label: 'Test prompts per benchmark', type: 'number', default: 100, min: 1, hint: 'Prompts per harmful benchmark in the evaluation (paper: 100).' },
  { group: 'Direction', key: 'directionLayer', label: 'Direction layer ℓ*', type: 'text', default: 'auto', hint: '"auto" sweeps layers by ablation effectiveness; the paper uses 15 (Gemma) and 11 (Llama).' },
  { group: 'Features', key: 'poolK', label: 'Cosine pool K', type: 'number', default: 10, min: 1, hint: 'Features per layer kept by decoder cosine with the refusal direction.' },
  { group: 'Features', key: 'kStar', label: 'K* selected', type: 'number', default: 20, min: 1, hint: 'Features selected by mean attribution over non-BOS positions.' },
  { group: 'Features', key: 'selection', label: 'Selection', type: 'select', default: 'global', options: ['global', 'local'], hint: 'Global: one set over the suite; local: a set per sample.' },
  { group: 'Attribution', key: 'igSteps', label: 'IG steps', type: 'number', default: 10, min: 1, max: 200, hint: 'IG steps — more steps, smoother attribution, linear cost.' },
  { group: 'Attribution', key: 'alphaRule', label: 'IG α rule', type: 'select', default: 'trapezoid', options: ['trapezoid', 'reference-left'], hint: 'Trapezoid on α = 0…1 (default), or the reference left sum α = 0…0.9.' },
  { group: 'Attribution', key: 'attrBatchSize', label: 'Attribution batch', type: 'number', default: 3, min: 1, hint: 'Prompts per attribution batch; memory grows with it (paper CLI: 3).' },
  { group: 'Intervention', key: 'clampMode', label: 'Clamp mode', type: 'select', default: 'multiply', options: ['multiply', 'value'], hint: 'Multiply activations by c, or set them to v.' },
  { group: 'Intervention', key: 'clampMultiplier', label: 'Multiplier c', type: 'number', default: -3, step: 0.5, hint: 'Negative flips the feature; paper: −3 for Gemma, −1 for Llama.' },
  { group: 'Intervention', key: 'inductionValues', label: 'Induction values v', type: 'text', default: '10,15,20,25,30', hint: 'Values for inducing refusal on harmless prompts (paper Gemma 10…30, Llama 1…5).' },
  { group: 'Intervention', key: 'positions', label: 'Positions', type: 'select', default: 'all', options: ['all', 'prompt', 'generation'], hint: 'Where the clamp applies: every position and decoding step, or only one part.' },
  { group: 'Generation', key: 'maxNewTokens', label: 'Max new tokens', type: 'number', default: 256, min: 1, hint: 'Greedy decoding length for evaluation (paper: 256).' },
  { group: 'Generation', key: 'genBatchSize', label: 'Generation batch', type: 'number', default: 32, min: 1, hint: 'Prompts generated together; larger is faster if memory allows.' },
  { group: 'Evaluation', key: 'judge', label: 'Judge', type: 'select', default: 'substring', options: ['substring', 'classifier', 'http'], hint: 'Substring list (fast), a classifier model, or an OpenAI-compatible endpoint.' },
  { group: 'Evaluation', key: 'baselines', label: 'Baselines', type: 'text', default: 'cossim,actdiff,ap,as,random', hint: 'Comparison methods of the same size; random is the control.' },
  { group: 'Evaluation', key: 'sideEffects', label: 'Side-effect CE', type: 'bool', default: true, hint: 'CE loss on harmless rollouts and a fixed text sample, per condition.' },
  { group: 'Graph', key: 'edgeMethod', label: 'Edges', type: 'select', default: 'gradient', options: ['gradient', 'clamp', 'both'], hint: 'Gradient × delta with stop-gradient, or clamp-and-measure.' },
  { group: 'Run', key: 'seed', label: 'Seed', type: 'number', default: 42, hint: 'Seeds data sampling and the random control (paper: 42).' },
  { group: 'Run', key: 'compat', label: 'Reference behaviour', type: 'bool', default: false, hint: 'Reproduce the reference code\u2019s quirks to compare with the paper\u2019s numbers.' },
];

export function defaultParams(specs = DISCOVERY_PARAMS): PipelineParams {
  const p: PipelineParams = {};
  for (const s of specs) p[s.key] = s.default;
  return p;
}

/** Problems with a parameter set, keyed by parameter (empty = valid). */
export function validateParams(p: PipelineParams, specs = DISCOVERY_PARAMS): Record<string, string> {
  const errs: Record<string, string> = {};
  for (const s of specs) {
    const v = p[s.key];
    if (s.type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) errs[s.key] = 'a number is needed';
      else if (s.min !== undefined && v < s.min) errs[s.key] = `at least ${s.min}`;
      else if (s.max !== undefined && v > s.max) errs[s.key] = `at most ${s.max}`;
    }
    if (s.key === 'directionLayer' && v !== 'auto' && !/^\d+$/.test(String(v))) errs[s.key] = '"auto" or a layer number';
    if (s.key === 'inductionValues' && !String(v).split(',').every((x) => x.trim() !== '' && Number.isFinite(Number(x)))) errs[s.key] = 'comma-separated numbers';
  }
  return errs;
}
