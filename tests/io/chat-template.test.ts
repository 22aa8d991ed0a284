/**
 * Hostile chat templates (each one a finding of issue #19) render under a budget: an error naming the
 * template's file, never a crash, a hang or an exhausted heap; a real template renders as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundedTemplate, TemplateBudgetError } from '../../workers/model/chat-template.js';
import { ChatTokenizer } from '../../workers/model/tokenizer.js';
import { repoRoot } from '../helpers/fixtures.js';

const FILE = '/models/evil/tokenizer_config.json';
// Far below the default so the suite stays quick; every hostile case is orders of magnitude over it.
const BUDGET = { timeoutMs: 400, maxHeapMb: 96 };
// For templates that must finish: generous, so a loaded machine cannot turn them into timeouts.
const ROOMY = { timeoutMs: 20_000, maxHeapMb: 96 };
const ctx = { messages: [{ role: 'user', content: 'hi' }], bos_token: '<s>', eos_token: '</s>', add_generation_prompt: true };

function refused(source: string, re: RegExp): void {
  let err: unknown;
  try {
    // Construction compiles under the same budget; on a loaded machine it may be the step that is refused.
    new BoundedTemplate(source, FILE, BUDGET).render(ctx);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TemplateBudgetError);
  expect((err as Error).message.startsWith(`${FILE}: `)).toBe(true);
  expect((err as Error).message).toMatch(re);
}

describe('chat templates render under a budget (issue #19 findings)', () => {
  it('range(1e9) is refused, the process survives (finding: crash)', () => {
    refused('{% for i in range(1000000000) %}x{% endfor %}', /memory|longer than|too large|string length/);
  });

  it('nested range(1e5) loops are refused (finding: hang)', () => {
    refused('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', /longer than 400 ms|memory/);
  });

  it('range(1e7) appends are refused (finding: hang)', () => {
    refused('{% set xs = [] %}{% for i in range(10000000) %}{% set _ = xs.append(i) %}{% endfor %}{{ xs|length }}', /longer than|memory/);
  });

  it('an exponential macro is refused (finding: hang)', () => {
    refused(
      '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}a{% endif %}{% endmacro %}{{ f(60) }}',
      /longer than|memory|too large/,
    );
  });

  it('a huge join is refused (finding: hang)', () => {
    refused('{{ range(50000000) | join("abcdefgh") }}', /longer than|memory|too large|string length/);
  });

  it('output above the cap is refused', () => {
    const t = new BoundedTemplate('{% for i in range(5000) %}0123456789{% endfor %}', FILE, { ...ROOMY, maxOutputChars: 10_000 });
    expect(() => t.render(ctx)).toThrow(/output too large: rendered 50000 characters, above the 10000 limit/);
  });

  it('a syntax error is an error naming the file at load', () => {
    expect(() => new BoundedTemplate('{% for x in %}', FILE, ROOMY)).toThrow(/^\/models\/evil\/tokenizer_config.json: invalid chat template/);
  });

  it('after a refused template, the next one renders (a fresh thread)', () => {
    refused('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', /longer than|memory/);
    expect(new BoundedTemplate('{{ bos_token }}{{ messages[0].content }}', FILE, ROOMY).render(ctx)).toBe('<s>hi');
  });
});

describe('ChatTokenizer names the template file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-tpl-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a hostile chat_template.jinja in a model folder is an error naming that file', () => {
    const src = path.join(repoRoot, 'assets', 'demo', 'model');
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const real = new ChatTokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), cfg);
    const expected = real.formatChat([{ role: 'user', content: 'hello' }], { addGenerationPrompt: true });
    const template = cfg.chat_template as string;
    delete cfg.chat_template;
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
    const jinja = path.join(dir, 'chat_template.jinja');
    fs.writeFileSync(jinja, '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}');
    expect(() => ChatTokenizer.fromDir(dir, { templateBudget: BUDGET }).encodeInstruction('hello')).toThrow(
      new RegExp(`^${jinja.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: (compiling|rendering) the chat template took longer`),
    );
    // The real template, from the .jinja file, renders exactly as before.
    fs.writeFileSync(jinja, template);
    expect(ChatTokenizer.fromDir(dir).formatChat([{ role: 'user', content: 'hello' }], { addGenerationPrompt: true })).toBe(expected);
  });
});
