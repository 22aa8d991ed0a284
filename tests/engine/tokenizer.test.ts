import { describe, expect, it } from 'vitest';
import { ChatTokenizer } from '../../workers/model/index.js';

// Chat templates exactly as Hugging Face ships them (Gemma-2-it; Llama-3-Instruct).
const GEMMA_TEMPLATE =
  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";
const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

function wordTokenizer(specials: string[], bos: string, words: string[]) {
  const vocab: Record<string, number> = {};
  specials.forEach((t, i) => (vocab[t] = i));
  words.forEach((w, i) => (vocab[w] = specials.length + i));
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
}

describe('chat template and tokenizer', () => {
  it('Gemma: same string as apply_chat_template, exactly one BOS', () => {
    const tj = wordTokenizer(['<pad>', '<eos>', '<bos>', '<unk>', '<start_of_turn>', '<end_of_turn>'], '<bos>', ['user', 'model', 'how', 'are', 'you']);
    const tok = new ChatTokenizer(tj, { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', chat_template: GEMMA_TEMPLATE });
    const text = tok.formatChat([{ role: 'user', content: '  how are you ' }], { addGenerationPrompt: true });
    expect(text).toBe('<bos><start_of_turn>user\nhow are you<end_of_turn>\n<start_of_turn>model\n');
    const ids = tok.encodeChat([{ role: 'user', content: 'how are you' }], { addGenerationPrompt: true });
    expect(ids.filter((t) => t === tok.bosId)).toHaveLength(1);
    expect(ids[0]).toBe(tok.bosId);
    expect(tok.endOfTurnId).toBe(5);
    // Plain encoding goes through the post-processor, which adds the BOS itself.
    expect(tok.encode('how are you')).toEqual([2, 8, 9, 10]);
    expect(tok.decode([])).toBe('');
    expect(() => tok.formatChat([{ role: 'system', content: 'x' }])).toThrow(/System role not supported/);
  });

  it('Llama-3: template BOS plus post-processor BOS still yields one BOS', () => {
    const specials = ['<|begin_of_text|>', '<|end_of_text|>', '<unk>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'];
    const tj = wordTokenizer(specials, '<|begin_of_text|>', ['user', 'assistant', 'hello']);
    const tok = new ChatTokenizer(tj, { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', chat_template: LLAMA3_TEMPLATE });
    const text = tok.formatChat([{ role: 'user', content: 'hello' }], { addGenerationPrompt: true });
    expect(text).toBe('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    const ids = tok.encodeChat([{ role: 'user', content: 'hello' }], { addGenerationPrompt: true });
    expect(ids.filter((t) => t === 0)).toHaveLength(1);
    expect(tok.endOfTurnId).toBe(5);
  });
});
