/**
 * SAELens `cfg.json` read exactly as SAELens 6.18 reads it (`handle_config_defaulting`,
 * `handle_pre_6_0_config`, `SAEConfig` / `TopKSAEConfig` fields), with one difference on purpose: a field
 * that would change encode/decode and that we do not implement is an error naming the field, never
 * dropped. Fields that cannot change encode/decode (training hyper-parameters, provenance) are listed
 * below by name and ignored; anything else is refused.
 *
 * What SAELens does with each field we act on:
 *   - no `sae_lens_version` (top level or metadata) or < 6.0.0-rc.0 → pre-6 config: `hook_point` → hook_name,
 *     `hook_point_head_index` → hook_head_index, `activation_fn_str` → activation_fn; defaults
 *     apply_b_dec_to_input = true, architecture "standard"; activation_fn "topk" with
 *     activation_fn_kwargs.k → architecture "topk", k; normalize_activations true/false →
 *     "expected_average_only_in"/"none", null → "none".
 *   - SAEConfig defaults: apply_b_dec_to_input true, normalize_activations "none", reshape "none", dtype float32.
 *   - TopKSAEConfig: k (default 100), rescale_acts_by_decoder_norm (default false).
 */
import { FileFormatError } from '../engine/errors.js';
import type { SaeArchitecture } from './types.js';

export type NormalizeActivations = 'none' | 'expected_average_only_in';
export type SaeDtype = 'float32' | 'float64' | 'float16' | 'bfloat16';

export interface SaeLensConfig {
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  k: number | null;
  rescaleActsByDecoderNorm: boolean;
  applyBDecToInput: boolean;
  normalize: NormalizeActivations;
  hookName: string;
  dtype: SaeDtype;
  /** Pre-6 `finetuning_scaling_factor`: a non-unit `scaling_factor` tensor multiplies the features before decoding. */
  finetuningScalingFactor: boolean;
  neuronpediaId: string | null;
  modelName: string | null;
  /** Whether the pre-6 conversion ran. */
  pre6: boolean;
  notes: string[];
}

/** Top-level fields that cannot change encode/decode: provenance, device, and training hyper-parameters. */
export const IGNORED_TOP_LEVEL_FIELDS: readonly string[] = [
  // provenance / placement (SAELens LLM_METADATA_KEYS and SAEConfig.device)
  'device', 'model_name', 'model_class_name', 'prepend_bos', 'exclude_special_tokens', 'neuronpedia_id', 'context_size',
  'seqpos_slice', 'dataset_path', 'dataset_trust_remote_code', 'sae_lens_version', 'sae_lens_training_version',
  'hook_layer', 'hook_point_layer', 'hook_eval', 'model_kwargs', 'streaming', 'is_dataset_tokenized',
  'use_cached_activations', 'cached_activations_path', 'expansion_factor', 'from_pretrained_path', 'act_store_device', 'seed',
  // training-only (SAELens ≤ 5 LanguageModelSAERunnerConfig, SAELens 6 TrainingSAEConfig subclasses)
  'b_dec_init_method', 'normalize_sae_decoder', 'noise_scale', 'decoder_orthogonal_init', 'decoder_heuristic_init',
  'init_encoder_as_decoder_transpose', 'n_batches_in_buffer', 'training_tokens', 'finetuning_tokens', 'store_batch_size_prompts',
  'train_batch_size_tokens', 'autocast', 'autocast_lm', 'compile_llm', 'llm_compilation_mode', 'compile_sae', 'sae_compilation_mode',
  'adam_beta1', 'adam_beta2', 'mse_loss_normalization', 'l1_coefficient', 'lp_norm', 'scale_sparsity_penalty_by_decoder_norm',
  'l1_warm_up_steps', 'lr', 'lr_scheduler_name', 'lr_warm_up_steps', 'lr_end', 'lr_decay_steps', 'n_restart_cycles',
  'finetuning_method', 'use_ghost_grads', 'feature_sampling_window', 'dead_feature_window', 'dead_feature_threshold',
  'n_eval_batches', 'eval_batch_size_prompts', 'log_to_wandb', 'log_activations_store_to_wandb', 'log_optimizer_state_to_wandb',
  'wandb_project', 'wandb_id', 'run_name', 'wandb_entity', 'wandb_log_frequency', 'eval_every_n_wandb_logs', 'resume',
  'n_checkpoints', 'checkpoint_path', 'verbose', 'tokens_per_buffer', 'jumprelu_init_threshold', 'jumprelu_bandwidth',
  'jumprelu_sparsity_loss_mode', 'jumprelu_tanh_scale', 'l0_coefficient', 'l0_warm_up_steps', 'pre_act_loss_coefficient',
  'decoder_init_norm', 'aux_loss_coefficient', 'use_sparse_activations', 'topk_threshold_lr', 'matryoshka_widths', 'k_aux',
];

/** Fields we read (and act on). */
const HANDLED_FIELDS = new Set([
  'architecture', 'd_in', 'd_sae', 'dtype', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations', 'metadata',
  'k', 'rescale_acts_by_decoder_norm', 'activation_fn', 'activation_fn_kwargs', 'finetuning_scaling_factor', 'hook_name',
  'hook_head_index', 'model_from_pretrained_kwargs',
]);

const IGNORED = new Set(IGNORED_TOP_LEVEL_FIELDS);

const DTYPES: Record<string, SaeDtype> = {
  float32: 'float32', float64: 'float64', float16: 'float16', bfloat16: 'bfloat16',
  'torch.float32': 'float32', 'torch.float64': 'float64', 'torch.float16': 'float16', 'torch.bfloat16': 'bfloat16',
};

/** `Version(v) < Version("6.0.0-rc.0")` for the version strings SAELens writes ("5.9.1", "6.0.0rc1", "6.18.0"). */
export function isPre6(version: string | null): boolean {
  if (!version) return true;
  const m = /^v?(\d+)/.exec(version.trim());
  if (!m) return true;
  return Number(m[1]) < 6;
}

function bad(file: string, field: string, problem: string): never {
  throw new FileFormatError(file, `field "${field}": ${problem}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check a SAELens cfg.json (already JSON-parsed). `file` names it in errors. */
export function parseSaeLensConfig(raw: Record<string, unknown>, file: string): SaeLensConfig {
  const notes: string[] = [];
  const md0 = raw.metadata;
  if (md0 !== undefined && !isObj(md0)) bad(file, 'metadata', 'must be an object');
  const version = (typeof raw.sae_lens_version === 'string' ? raw.sae_lens_version : null) ?? (isObj(md0) && typeof md0.sae_lens_version === 'string' ? md0.sae_lens_version : null);
  const pre6 = isPre6(version);
  let cfg: Record<string, unknown> = { ...raw };
  if (pre6) {
    const rename: Record<string, string> = { hook_point: 'hook_name', hook_point_head_index: 'hook_head_index', activation_fn_str: 'activation_fn' };
    cfg = Object.fromEntries(Object.entries(raw).map(([k, v]) => [rename[k] ?? k, v]));
    cfg.apply_b_dec_to_input ??= true;
    cfg.architecture ??= 'standard';
    cfg.activation_fn ??= 'relu';
    if (typeof cfg.normalize_activations === 'boolean') cfg.normalize_activations = cfg.normalize_activations ? 'expected_average_only_in' : 'none';
    notes.push(`pre-6.0 SAELens config (version ${version ?? 'unknown'}): converted as SAELens 6 handle_pre_6_0_config does`);
  }
  const md = isObj(cfg.metadata) ? cfg.metadata : {};
  for (const key of Object.keys(cfg)) {
    if (!HANDLED_FIELDS.has(key) && !IGNORED.has(key)) {
      bad(file, key, 'unknown SAELens config field that may change encode/decode; refusing rather than ignoring it (known fields: see workers/sae/saelens-config.ts)');
    }
  }
  const int = (key: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(file, key, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const dIn = int('d_in', cfg.d_in);
  const dSae = int('d_sae', cfg.d_sae);
  const bool = (key: string, v: unknown, dflt: boolean): boolean => {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') bad(file, key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };

  // architecture / activation
  const archRaw = cfg.architecture ?? (pre6 ? 'standard' : undefined);
  if (typeof archRaw !== 'string') bad(file, 'architecture', 'missing (SAELens 6 configs name it: standard, jumprelu, topk)');
  const actFn = cfg.activation_fn === undefined ? 'relu' : cfg.activation_fn;
  const kwargs = cfg.activation_fn_kwargs === undefined || cfg.activation_fn_kwargs === null ? {} : cfg.activation_fn_kwargs;
  if (!isObj(kwargs)) bad(file, 'activation_fn_kwargs', 'must be an object');
  let architecture: SaeArchitecture;
  let arch = archRaw;
  let k: number | null = null;
  if (pre6 && actFn === 'topk' && kwargs.k !== undefined && kwargs.k !== null) {
    arch = 'topk';
    k = int('activation_fn_kwargs.k', kwargs.k);
  }
  if (arch === 'standard') {
    // SAELens 6's StandardSAE always uses ReLU and drops activation_fn; a pre-6 SAE trained with another
    // activation (e.g. "tanh-relu") would load silently wrong there, so we refuse it.
    if (actFn !== 'relu') bad(file, 'activation_fn', `"${String(actFn)}" is not supported (relu, or topk with activation_fn_kwargs.k)`);
    architecture = 'relu';
  } else if (arch === 'jumprelu') {
    if (actFn !== 'relu') bad(file, 'activation_fn', `"${String(actFn)}" is not supported for jumprelu (relu)`);
    architecture = 'jumprelu';
  } else if (arch === 'topk') {
    architecture = 'topk';
    if (k === null) {
      if (cfg.k === undefined) {
        k = 100;
        notes.push('topk without k: SAELens TopKSAEConfig default k = 100');
      } else k = int('k', cfg.k);
    }
    if (k > dSae) bad(file, 'k', `k = ${k} is larger than d_sae = ${dSae}`);
  } else {
    bad(file, 'architecture', `"${String(arch)}" is not supported (standard, jumprelu, topk)`);
  }
  if (architecture !== 'topk' && cfg.k !== undefined) bad(file, 'k', `set on a ${String(arch)} SAE (only topk has k)`);
  const rescale = bool('rescale_acts_by_decoder_norm', cfg.rescale_acts_by_decoder_norm, false);
  if (rescale && architecture !== 'topk') bad(file, 'rescale_acts_by_decoder_norm', `only topk SAEs rescale by the decoder norm (this is ${String(arch)})`);
  if (rescale) notes.push('rescale_acts_by_decoder_norm: folded as SAELens fold_W_dec_norm (W_enc·‖W_dec‖, b_enc·‖W_dec‖, W_dec/‖W_dec‖)');

  const applyBDecToInput = bool('apply_b_dec_to_input', cfg.apply_b_dec_to_input, true);
  if (cfg.apply_b_dec_to_input === undefined) notes.push('apply_b_dec_to_input missing: SAELens default true (b_dec subtracted before encoding)');

  // normalisation
  let normRaw = cfg.normalize_activations;
  if (normRaw === undefined || normRaw === null) normRaw = 'none';
  if (normRaw === false) normRaw = 'none';
  if (normRaw === true) bad(file, 'normalize_activations', 'true in a SAELens ≥ 6 config (only pre-6 configs use booleans)');
  let normalize: NormalizeActivations;
  if (normRaw === 'none' || normRaw === 'expected_average_only_in') normalize = normRaw;
  else if (normRaw === 'constant_norm_rescale' || normRaw === 'layer_norm') {
    bad(
      file,
      'normalize_activations',
      `"${normRaw}" is a per-token run-time normalisation whose decode needs the statistics of the encoded input (SAELens run_time_activation_norm_fn_out); the workbench decodes edited features without the input, so it is not supported`,
    );
  } else bad(file, 'normalize_activations', `"${String(normRaw)}" is not a SAELens value (none, expected_average_only_in, constant_norm_rescale, layer_norm)`);

  const reshape = cfg.reshape_activations ?? 'none';
  if (reshape !== 'none') bad(file, 'reshape_activations', `"${String(reshape)}" is not supported (none; hook_z SAEs read per-head attention outputs the workbench does not hook)`);

  const dtRaw = cfg.dtype ?? 'float32';
  const dtype = typeof dtRaw === 'string' ? DTYPES[dtRaw] : undefined;
  if (!dtype) bad(file, 'dtype', `"${String(dtRaw)}" is not a SAELens dtype (${Object.keys(DTYPES).join(', ')})`);
  if (dtype === 'float16' || dtype === 'bfloat16') notes.push(`dtype ${dtype}: weights rounded to ${dtype} as SAELens loads them, computed in float32`);
  if (dtype === 'float64') notes.push('dtype float64: computed in float32');

  const fsf = cfg.finetuning_scaling_factor;
  if (fsf !== undefined && typeof fsf !== 'boolean') bad(file, 'finetuning_scaling_factor', 'must be true or false');
  if (fsf === true && !pre6) bad(file, 'finetuning_scaling_factor', 'true in a SAELens ≥ 6 config (SAELens 6 has no fine-tuning scaling factor)');

  const hookName = (md.hook_name ?? cfg.hook_name ?? '') as unknown;
  if (typeof hookName !== 'string') bad(file, 'hook_name', 'must be a string');
  const head = md.hook_head_index ?? cfg.hook_head_index;
  if (head !== undefined && head !== null) bad(file, 'hook_head_index', `${JSON.stringify(head)}: SAEs of one attention head are not supported`);
  if (md.hook_name_out !== undefined && md.hook_name_out !== null) bad(file, 'metadata.hook_name_out', 'a transcoder (reads one hook, writes another) is not an SAE');
  const mfp = md.model_from_pretrained_kwargs ?? cfg.model_from_pretrained_kwargs;
  if (mfp !== undefined && mfp !== null) {
    if (!isObj(mfp)) bad(file, 'model_from_pretrained_kwargs', 'must be an object');
    // TransformerLens weight processing changes the activations the SAE was trained on; `false` flags
    // (no processing) are what a plain Hugging Face model gives.
    const on = Object.entries(mfp).filter(([, v]) => v !== false);
    if (on.length) bad(file, 'model_from_pretrained_kwargs', `${on.map(([k2, v]) => `${k2}=${JSON.stringify(v)}`).join(', ')}: the SAE expects a TransformerLens-processed model; only "no processing" (false) flags match a Hugging Face model`);
  }
  const np = md.neuronpedia_id ?? cfg.neuronpedia_id ?? null;
  const modelName = md.model_name ?? cfg.model_name ?? null;
  return {
    architecture,
    dIn,
    dSae,
    k: architecture === 'topk' ? k : null,
    rescaleActsByDecoderNorm: rescale,
    applyBDecToInput,
    normalize,
    hookName,
    dtype,
    finetuningScalingFactor: fsf === true,
    neuronpediaId: typeof np === 'string' ? np : null,
    modelName: typeof modelName === 'string' ? modelName : null,
    pre6,
    notes,
  };
}

/** Round float32 values to bfloat16 / float16 (round to nearest even), as torch `.to(dtype)` does. */
export function roundToDtype(a: Float32Array, dtype: SaeDtype): Float32Array {
  if (dtype === 'float32' || dtype === 'float64') return a;
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  if (dtype === 'bfloat16') {
    for (let i = 0; i < u.length; i++) {
      const x = u[i]!;
      if ((x & 0x7f800000) === 0x7f800000) {
        if (x & 0x7fffff) u[i] = (x | 0x400000) & 0xffff0000; // NaN stays NaN
        continue;
      }
      u[i] = ((x + 0x7fff + ((x >>> 16) & 1)) & 0xffff0000) >>> 0;
    }
    return a;
  }
  for (let i = 0; i < a.length; i++) a[i] = f16Round(a[i]!);
  return a;
}

/** Nearest IEEE half value (ties to even), returned as a float32. */
function f16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const ax = Math.abs(x);
  if (ax >= 65520) return x > 0 ? Infinity : -Infinity;
  // spacing of half values around |x|: 2^(e-10) for normals, 2^-24 for subnormals
  const e = Math.max(Math.floor(Math.log2(ax)), -14);
  const step = 2 ** (e - 10);
  const q = ax / step;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q) - 0.5) < 1e-12) r = Math.trunc(q) % 2 === 0 ? Math.trunc(q) : Math.trunc(q) + 1;
  return Math.fround(Math.sign(x) * r * step);
}
