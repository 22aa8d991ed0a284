// The layer rules are architecture, so they are tested like code: ESLint's Node API with the project's
// own eslint.config.js, on fixture text placed (virtually) in the folder whose rules it should meet.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (name: string) => fs.readFileSync(path.join(root, 'tests/lint/fixtures', name), 'utf8');

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js'), cache: false });
});

/** Lint `code` as if it were the file at `rel` (repository-relative); returns "ruleId: message" lines. */
async function lintAs(rel: string, code: string): Promise<Array<{ rule: string | null; message: string }>> {
  const [res] = await eslint.lintText(code, { filePath: path.join(root, rel) });
  return res.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('layer rules (eslint.config.js)', () => {
  it('a renderer view importing workers/ and electron fails lint', async () => {
    const msgs = await lintAs('renderer/src/views/Broken.tsx', fixture('renderer-imports-workers.tsx'));
    const restricted = msgs.filter((m) => m.rule === 'no-restricted-imports');
    expect(restricted).toHaveLength(2);
    expect(restricted.some((m) => m.message.includes('workers/refusal/pipeline.js') && m.message.includes('renderer/ imports only common/'))).toBe(true);
    expect(restricted.some((m) => m.message.includes("'electron'"))).toBe(true);
  });

  it('a renderer view that imports only react, common/ and the renderer passes', async () => {
    expect(await lintAs('renderer/src/views/Clean.tsx', fixture('renderer-clean.tsx'))).toEqual([]);
  });

  it('the same broken text is fine where the layer allows it (rules are per folder, not global)', async () => {
    // main/ may import workers/ and electron; only the renderer may not.
    const msgs = await lintAs('main/electron/Broken.tsx', fixture('renderer-imports-workers.tsx'));
    expect(msgs.filter((m) => m.rule === 'no-restricted-imports')).toEqual([]);
  });

  it('workers/ never import electron, react, main/ or renderer/', async () => {
    const code = [
      "import { app } from 'electron';",
      "import { useState } from 'react';",
      "import { Settings } from '../../main/settings/settings.js';",
      "import { api } from '../../renderer/src/views/api.js';",
      "import { z } from 'zod';",
      "import { run } from '../engine/run.js';",
      'export const x = [app, useState, Settings, api, z, run];',
    ].join('\n');
    const lines = (await lintAs('workers/refusal/example.ts', code)).filter((m) => m.rule === 'no-restricted-imports');
    expect(lines).toHaveLength(4);
  });

  it('common/ depends on nothing of ours but common/ (zod is fine)', async () => {
    const code = [
      "import { z } from 'zod';",
      "import { Other } from '../schemas/other.js';",
      "import { pipeline } from '../../workers/refusal/pipeline.js';",
      "import { core } from '../../main/server/core.js';",
      'export const x = [z, Other, pipeline, core];',
    ].join('\n');
    const msgs = (await lintAs('common/steps/example.ts', code)).filter((m) => m.rule === 'no-restricted-imports');
    expect(msgs).toHaveLength(2);
    expect(msgs.every((m) => m.message.includes('common/ depends on nothing of ours'))).toBe(true);
  });

  it('job steps never import main/cli; other main/ code may', async () => {
    const code = "import { probeRun } from '../../cli/probe.js';\nexport const x = probeRun;";
    const step = (await lintAs('main/jobs/builtin/example.ts', code)).filter((m) => m.rule === 'no-restricted-imports');
    expect(step).toHaveLength(1);
    expect(step[0].message).toContain('Job steps never import main/cli');
    expect(await lintAs('main/server/example.ts', code)).toEqual([]);
  });

  it('`any` in an exported signature is an error in sources, allowed in tests', async () => {
    const code = 'export function f(x: any): any {\n  return x;\n}\n';
    const src = await lintAs('workers/eval/example.ts', code);
    expect(src.filter((m) => m.rule === '@typescript-eslint/no-explicit-any')).toHaveLength(2);
    expect(await lintAs('tests/eval/example.test.ts', code)).toEqual([]);
  });

  it('lints only the sources: fixtures, assets and node_modules are ignored', async () => {
    for (const rel of [
      'tests/lint/fixtures/renderer-imports-workers.tsx',
      'tests/fixtures/x.ts',
      'assets/x.ts',
      'node_modules/x/index.js',
      'test-artifacts/x.ts',
    ]) {
      expect(await eslint.isPathIgnored(path.join(root, rel)), rel).toBe(true);
    }
  });
});
