/**
 * Tokenizer and chat template through @huggingface/tokenizers and @huggingface/jinja, so chat
 * formatting equals HF's apply_chat_template and a templated prompt carries exactly one BOS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FileFormatError } from '../engine/errors.js';
import { FILE_LIMITS, readUserJson, readUserText } from '../engine/io/user-file.js';
import { BoundedTemplate, type TemplateBudget } from './chat-template.js';
import { checkTokenizerRegexes } from './regex-check.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

type Json = Record<string, unknown>;

function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

const END_OF_TURN_CANDIDATES = ['<end_of_turn>', '<|eot_id|>', '<|im_end|>', '<|end|>'];

export class ChatTokenizer {
  private readonly tok: Tokenizer;
  private readonly template: BoundedTemplate | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** The chat end-of-turn token id (Gemma <end_of_turn>, Llama <|eot_id|>), if the vocabulary has one. */
  readonly endOfTurnId: number | null;

  /**
   * `templateFile` names where the chat template came from (for errors); the template renders under
   * `templateBudget` (see chat-template.ts): a downloaded template is untrusted code.
   */
  constructor(
    tokenizerJson: Json,
    readonly config: Json,
    readonly source = 'tokenizer.json',
    opts: { templateFile?: string; templateBudget?: TemplateBudget } = {},
  ) {
    checkTokenizerRegexes(tokenizerJson, source); // file-supplied regexes run on every prompt
    try {
      this.tok = new Tokenizer(tokenizerJson, config);
    } catch (e) {
      throw new FileFormatError(source, `cannot build tokenizer (${(e as Error).message})`);
    }
    this.bosToken = tokenText(config.bos_token);
    this.eosToken = tokenText(config.eos_token);
    const id = (t: string | null) => (t === null ? null : (this.tok.token_to_id(t) ?? null));
    this.bosId = id(this.bosToken);
    this.eosId = id(this.eosToken);
    this.padId = id(tokenText(config.pad_token));
    this.endOfTurnId = END_OF_TURN_CANDIDATES.map((t) => this.tok.token_to_id(t)).find((x) => x !== undefined) ?? null;
    let tpl = config.chat_template as unknown;
    if (Array.isArray(tpl)) {
      const named = tpl as { name: string; template: string }[];
      tpl = (named.find((t) => t.name === 'default') ?? named[0])?.template;
    }
    this.template = typeof tpl === 'string' ? new BoundedTemplate(tpl, opts.templateFile ?? source, opts.templateBudget) : null;
  }

  static fromDir(dir: string, opts: { templateBudget?: TemplateBudget } = {}): ChatTokenizer {
    const tj = path.join(dir, 'tokenizer.json');
    const tc = path.join(dir, 'tokenizer_config.json');
    const read = (f: string): Json => {
      const v = readUserJson(f, { maxBytes: FILE_LIMITS.tokenizer, what: path.basename(f) });
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FileFormatError(f, 'expected a JSON object');
      return v as Json;
    };
    const config = fs.existsSync(tc) ? read(tc) : {};
    let templateFile = tc;
    // Newer HF folders keep the template in chat_template.jinja.
    const jinja = path.join(dir, 'chat_template.jinja');
    if (config.chat_template === undefined && fs.existsSync(jinja)) {
      config.chat_template = readUserText(jinja, { maxBytes: FILE_LIMITS.template, what: 'chat template' });
      templateFile = jinja;
    }
    return new ChatTokenizer(read(tj), config, tj, { templateFile, templateBudget: opts.templateBudget });
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    try {
      return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
    } catch (e) {
      // The library fails on a broken tokenizer.json only when used: the file is at fault, so name it.
      throw new FileFormatError(this.source, `cannot encode with this tokenizer (${(e as Error).message})`);
    }
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    // The library rejects an empty list; a generation that stopped at once decodes to ''.
    if (ids.length === 0) return '';
    try {
      return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? true });
    } catch (e) {
      throw new FileFormatError(this.source, `cannot decode with this tokenizer (${(e as Error).message})`);
    }
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Token strings of an id sequence (for per-token displays). */
  tokens(ids: number[]): string[] {
    return ids.map((i) => this.tok.id_to_token(i) ?? `<${i}>`);
  }

  /** Same string as HF `apply_chat_template(messages, tokenize=False, add_generation_prompt=...)`. */
  formatChat(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template) throw new FileFormatError(this.source, 'tokenizer_config.json has no chat_template');
    return this.template.render({
      messages,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      add_generation_prompt: opts.addGenerationPrompt ?? false,
    });
  }

  /** Tokenised chat prompt with exactly one BOS (W12: asserted, never assumed). */
  encodeChat(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): number[] {
    const ids = this.encode(this.formatChat(messages, opts), { addSpecialTokens: false });
    if (this.bosId !== null) {
      if (ids[0] !== this.bosId) ids.unshift(this.bosId);
      const count = ids.filter((t) => t === this.bosId).length;
      if (count !== 1) throw new FileFormatError(this.template?.file ?? this.source, `chat prompt has ${count} BOS tokens, expected exactly one`);
    }
    return ids;
  }

  /** Chat-format a single user instruction with the generation prompt. */
  encodeInstruction(instruction: string): number[] {
    return this.encodeChat([{ role: 'user', content: instruction }], { addGenerationPrompt: true });
  }
}
