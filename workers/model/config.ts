/** Reads a Hugging Face config.json into the normalised ModelConfig; unsupported models fail by name. */
import { z } from 'zod';
import { FileFormatError, UnsupportedError } from '../engine/errors.js';
import type { Architecture, ModelConfig } from './types.js';

export const SUPPORTED_ARCHITECTURES: Record<string, Architecture> = {
  Gemma2ForCausalLM: 'gemma2',
  LlamaForCausalLM: 'llama',
};

const intOrList = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const HfConfigSchema = z
  .object({
    architectures: z.array(z.string()).min(1),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().nullish(),
    head_dim: z.number().int().positive().nullish(),
    rms_norm_eps: z.number().positive(),
    rope_theta: z.number().positive().nullish(),
    rope_scaling: z
      .object({
        rope_type: z.string().nullish(),
        type: z.string().nullish(),
        factor: z.number().nullish(),
        low_freq_factor: z.number().nullish(),
        high_freq_factor: z.number().nullish(),
        original_max_position_embeddings: z.number().nullish(),
      })
      .nullish(),
    sliding_window: z.number().int().nullish(),
    query_pre_attn_scalar: z.number().nullish(),
    attn_logit_softcapping: z.number().nullish(),
    final_logit_softcapping: z.number().nullish(),
    tie_word_embeddings: z.boolean().nullish(),
    hidden_activation: z.string().nullish(),
    hidden_act: z.string().nullish(),
    max_position_embeddings: z.number().int().nullish(),
    bos_token_id: intOrList,
    eos_token_id: intOrList,
    pad_token_id: z.number().int().nullish(),
    attention_bias: z.boolean().nullish(),
    mlp_bias: z.boolean().nullish(),
  })
  .passthrough();

export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  const parsed = HfConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FileFormatError(file, `invalid model config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = parsed.data;
  const hfArch = c.architectures[0]!;
  const architecture = SUPPORTED_ARCHITECTURES[hfArch];
  if (!architecture) {
    throw new UnsupportedError(
      `${file}: architecture "${hfArch}" is not supported (supported: ${Object.keys(SUPPORTED_ARCHITECTURES).join(', ')})`,
    );
  }
  if (c.attention_bias || c.mlp_bias) throw new UnsupportedError(`${file}: attention/MLP biases are not supported`);
  const nHeads = c.num_attention_heads;
  const nKvHeads = c.num_key_value_heads ?? nHeads;
  if (nHeads % nKvHeads !== 0) throw new FileFormatError(file, `num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKvHeads}`);
  const headDim = c.head_dim ?? c.hidden_size / nHeads;
  const list = (v: number | number[] | null | undefined): number[] => (v == null ? [] : Array.isArray(v) ? v : [v]);
  let ropeScaling: ModelConfig['ropeScaling'] = null;
  if (c.rope_scaling) {
    const type = c.rope_scaling.rope_type ?? c.rope_scaling.type;
    if (type !== 'llama3') throw new UnsupportedError(`${file}: rope_scaling type "${type}" is not supported (supported: llama3)`);
    ropeScaling = {
      ropeType: 'llama3',
      factor: c.rope_scaling.factor ?? 8,
      lowFreqFactor: c.rope_scaling.low_freq_factor ?? 1,
      highFreqFactor: c.rope_scaling.high_freq_factor ?? 4,
      originalMaxPositionEmbeddings: c.rope_scaling.original_max_position_embeddings ?? 8192,
    };
  }
  const gemma = architecture === 'gemma2';
  return {
    architecture,
    hfArchitecture: hfArch,
    vocabSize: c.vocab_size,
    dModel: c.hidden_size,
    nLayers: c.num_hidden_layers,
    nHeads,
    nKvHeads,
    headDim,
    dMlp: c.intermediate_size,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta ?? 10000,
    ropeScaling,
    slidingWindow: gemma ? (c.sliding_window ?? 4096) : null,
    queryPreAttnScalar: gemma ? (c.query_pre_attn_scalar ?? headDim) : null,
    attnLogitSoftcapping: gemma ? (c.attn_logit_softcapping ?? null) : null,
    finalLogitSoftcapping: gemma ? (c.final_logit_softcapping ?? null) : null,
    tieWordEmbeddings: c.tie_word_embeddings ?? gemma,
    hiddenAct: c.hidden_activation ?? c.hidden_act ?? (gemma ? 'gelu_pytorch_tanh' : 'silu'),
    maxPositionEmbeddings: c.max_position_embeddings ?? 8192,
    bosTokenId: list(c.bos_token_id)[0] ?? null,
    eosTokenIds: list(c.eos_token_id),
    padTokenId: c.pad_token_id ?? 0,
  };
}

/** Expected parameter names and shapes ([out, in] for projections, as HF stores them). */
export function expectedWeights(cfg: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const d = cfg.dModel;
  m.set('model.embed_tokens.weight', [cfg.vocabSize, d]);
  m.set('model.norm.weight', [d]);
  if (!cfg.tieWordEmbeddings) m.set('lm_head.weight', [cfg.vocabSize, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}`;
    m.set(`${p}.self_attn.q_proj.weight`, [cfg.nHeads * cfg.headDim, d]);
    m.set(`${p}.self_attn.k_proj.weight`, [cfg.nKvHeads * cfg.headDim, d]);
    m.set(`${p}.self_attn.v_proj.weight`, [cfg.nKvHeads * cfg.headDim, d]);
    m.set(`${p}.self_attn.o_proj.weight`, [d, cfg.nHeads * cfg.headDim]);
    m.set(`${p}.mlp.gate_proj.weight`, [cfg.dMlp, d]);
    m.set(`${p}.mlp.up_proj.weight`, [cfg.dMlp, d]);
    m.set(`${p}.mlp.down_proj.weight`, [d, cfg.dMlp]);
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
    if (cfg.architecture === 'gemma2') {
      m.set(`${p}.pre_feedforward_layernorm.weight`, [d]);
      m.set(`${p}.post_feedforward_layernorm.weight`, [d]);
    }
  }
  return m;
}

export function parameterCount(cfg: ModelConfig): number {
  let n = 0;
  for (const s of expectedWeights(cfg).values()) n += s.reduce((a, x) => a * x, 1);
  return n;
}
