/**
 * The demo's word-level tokenizer, written as a Hugging Face tokenizer.json that both the Python
 * `tokenizers` library and `@huggingface/tokenizers` load.
 *
 * @huggingface/tokenizers has no WordLevel model, so the vocabulary is a WordPiece model without any
 * "##" continuation pieces: a pre-token in the vocabulary maps to its id, anything else to <unk> —
 * i.e. word level. The pre-tokenizer isolates "\n" (so the chat template's newlines are tokens), words
 * ([A-Za-z0-9']+) and single punctuation characters; spaces are dropped. Special tokens are added tokens
 * (split out before pre-tokenization). The post-processor prepends exactly one <bos>.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

export const SPECIAL_TOKENS = ['<pad>', '<eos>', '<bos>', '<unk>', '<start_of_turn>', '<end_of_turn>'] as const;
export const PAD_ID = 0;
export const EOS_ID = 1;
export const BOS_ID = 2;
export const UNK_ID = 3;
export const START_OF_TURN_ID = 4;
export const END_OF_TURN_ID = 5;
export const NEWLINE_ID = 6;

/** JS twin of the pre-tokenizer regex. */
export const PRETOKENIZE_REGEX = "\\n|[A-Za-z0-9']+|[^\\sA-Za-z0-9']";

export function pretokenize(text: string): string[] {
  return text.match(new RegExp(PRETOKENIZE_REGEX, 'g')) ?? [];
}

/** Gemma-2's chat template (verbatim from google/gemma-2-2b-it). */
export const GEMMA_CHAT_TEMPLATE =
  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  vocab: string[];
}

/** Build the tokenizer files from every text the corpus uses. Deterministic (sorted vocabulary). */
export function buildTokenizerFiles(texts: string[], maxLength = 128): TokenizerFiles {
  const words = new Set<string>(['user', 'model']);
  for (const t of texts) for (const w of pretokenize(t)) if (w !== '\n') words.add(w);
  const sorted = [...words].sort();
  const vocab = [...SPECIAL_TOKENS, '\n', ...sorted];
  const vocabMap: Record<string, number> = {};
  vocab.forEach((w, i) => (vocabMap[w] = i));
  const addedTokens = SPECIAL_TOKENS.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: PRETOKENIZE_REGEX }, behavior: 'Removed', invert: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<bos>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<bos>': { id: '<bos>', ids: [BOS_ID], tokens: ['<bos>'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: {
      type: 'WordPiece',
      unk_token: '<unk>',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: vocabMap,
    },
  };
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const t of addedTokens) addedTokensDecoder[String(t.id)] = { ...t };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: ['<start_of_turn>', '<end_of_turn>'],
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    chat_template: GEMMA_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    padding_side: 'left',
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return { tokenizerJson, tokenizerConfig, vocab };
}

export interface DemoTokenizer {
  tokenizer: Tokenizer;
  template: Template;
  vocabSize: number;
  /** Chat-formatted prompt ids (one <bos>) ending with "<start_of_turn>model\n". */
  promptIds(instruction: string): number[];
  /** Full conversation ids and the index of the first response token. */
  conversationIds(instruction: string, response: string): { ids: number[]; responseStart: number };
  decode(ids: number[]): string;
}

export function makeDemoTokenizer(tokenizerJson: object, tokenizerConfig: Record<string, unknown>): DemoTokenizer {
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const template = new Template(tokenizerConfig.chat_template as string);
  const vocabSize = Object.keys((tokenizerJson as { model: { vocab: object } }).model.vocab).length;
  const render = (messages: { role: string; content: string }[], gen: boolean) =>
    template.render({ messages, bos_token: '<bos>', eos_token: '<eos>', add_generation_prompt: gen });
  const enc = (s: string) => tokenizer.encode(s, { add_special_tokens: false }).ids;
  return {
    tokenizer,
    template,
    vocabSize,
    promptIds: (instruction) => enc(render([{ role: 'user', content: instruction }], true)),
    conversationIds: (instruction, response) => {
      const p = enc(render([{ role: 'user', content: instruction }], true));
      const ids = enc(render([{ role: 'user', content: instruction }, { role: 'assistant', content: response }], false));
      for (let i = 0; i < p.length; i++) if (ids[i] !== p[i]) throw new Error('chat template prefix mismatch');
      return { ids, responseStart: p.length };
    },
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
  };
}
