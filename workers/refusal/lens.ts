/** Building a Lens from the model loader, its tokenizer and an SaeSet (streamed one layer at a time). */
import type { Sae } from '../sae/types.js';
import type { SaeSet } from '../sae/set.js';
import type { ChatCodec, Lens, SaeProvider } from './types.js';
import type { CausalLM } from '../model/types.js';

/** Minimal tokenizer surface the codec needs (workers/model/tokenizer.ts ChatTokenizer has it). */
export interface TokenizerLike {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  encodeInstruction(instruction: string): number[];
  tokenToId(token: string): number | undefined;
  readonly bosId: number | null;
  readonly endOfTurnId: number | null;
}

/**
 * W12: skip offset derived from the tokenised template — BOS for Gemma; for Llama-3 everything before the
 * user turn's header (BOS + system block).
 */
export function deriveSkipPrefix(tok: TokenizerLike): number {
  const ids = tok.encodeInstruction('x');
  const header = tok.tokenToId('<|start_header_id|>');
  if (header !== undefined) {
    const at = ids.map((t, i) => (t === header ? i : -1)).filter((i) => i >= 0);
    if (at.length >= 2) return at[1];
  }
  return tok.bosId !== null && ids[0] === tok.bosId ? 1 : 0;
}

export function codecFromTokenizer(tok: TokenizerLike, refusalText = 'I'): ChatCodec {
  const r = tok.encode(refusalText, { addSpecialTokens: false });
  if (!r.length) throw new Error(`refusal text "${refusalText}" tokenises to nothing`);
  return {
    encodePrompt: (p) => tok.encodeInstruction(p),
    encodeText: (t) => tok.encode(t, { addSpecialTokens: false }),
    decode: (ids) => tok.decode(ids, { skipSpecialTokens: true }),
    refusalTokenId: r[0],
    bosTokenId: tok.bosId,
    skipPrefix: deriveSkipPrefix(tok),
    endOfTurnId: tok.endOfTurnId,
  };
}

/**
 * SAEs from an SaeSet. `resident: true` keeps every layer once loaded (fast when memory allows);
 * otherwise a layer loaded for a step is dropped when the step releases it (model + one SAE).
 */
export function providerFromSaeSet(set: SaeSet, opts: { resident?: boolean } = {}): SaeProvider & { peakResident: number } {
  const p = {
    layers: set.layers,
    peakResident: 0,
    async get(l: number): Promise<Sae> {
      const s = set.get(l);
      p.peakResident = Math.max(p.peakResident, set.residentLayers().length);
      return s;
    },
    release(sae: Sae) {
      if (!opts.resident) set.drop(sae.meta.layer);
    },
    // streamed only when layers are not kept resident (a resident layer is cheaper to reuse)
    decoderChunks: opts.resident ? undefined : (l: number) => set.decoderChunks(l),
  };
  return p;
}

export function makeLens(model: CausalLM, saes: SaeProvider, codec: ChatCodec): Lens {
  return { model, saes, codec, family: model.config.architecture === 'llama' ? 'llama' : 'gemma2' };
}
