/**
 * `npm run bench:experiments` (issue 16): on the bundled demo, one `run` of a pipeline with three harmful
 * suites (the demo's own, AdvBench and HarmBench test from assets/suites, each limited), one harmless suite,
 * the adversarial suite and a sweep clampValue ∈ {0, −1, −3} × K* ∈ {1, 5, 10} × {local, global}, against the
 * separate runs it replaces (one discovery run per harmful suite × setting, each in a fresh project, which
 * also scores the harmless suite). Prints JSON: seconds of both, row / McNemar counts, and how many rates of
 * the one job differ from the separate runs (0 expected).
 * Options: --limit 40 (prompts per suite) --backend wasm --separate all|none
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { initBackend, type BackendName } from '../workers/engine/backend.js';
import { runPipelineFile } from '../workers/refusal/project.js';
import { quietCtx } from '../workers/refusal/types.js';

const { values: a } = parseArgs({ options: { limit: { type: 'string', default: '40' }, backend: { type: 'string' }, separate: { type: 'string', default: 'all' } } });
const LIMIT = Number(a.limit);
const log = (m: string) => process.stderr.write(`[bench:experiments] ${m}\n`);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(REPO, 'assets', 'demo');
const suites = path.join(REPO, 'assets', 'suites', 'refusal_direction', 'processed');

const harmfulRefs = [
  { path: path.join(demo, 'suites', 'demo-harmful.json'), split: 'test', limit: LIMIT, seed: 1 },
  { path: path.join(suites, 'advbench.json'), limit: LIMIT },
  { path: path.join(suites, 'harmbench_test.json'), limit: LIMIT },
];
const harmless = { path: path.join(demo, 'suites', 'demo-harmless.json'), split: 'train', limit: 80, seed: 2 };
const evalHarmless = { path: path.join(demo, 'suites', 'demo-harmless.json'), split: 'test', limit: LIMIT, seed: 3 };
const adversarial = { path: path.join(demo, 'suites', 'demo-adversarial.json'), split: 'test', limit: 60, seed: 4 };
// ℓ* fixed (the demo's layer sweep picks 0) so that every separate run evaluates the same layer
const params = { maxNewTokens: 6, layer: 0, laBatchSize: 16, genBatchSize: 80, sideEffects: true, kStar: 5, graph: { enabled: false } };
const sweep = { clampValue: [0, -1, -3], kStar: [1, 5, 10], setKind: ['local', 'global'] as const };

function pipeline(extra: Record<string, unknown>, harmful = harmfulRefs[0]) {
  return {
    kind: 'refusal-workbench/pipeline',
    schemaVersion: 1,
    name: 'bench-experiments',
    model: path.join(demo, 'model'),
    saes: path.join(demo, 'saes'),
    suites: { harmful, harmless, evalHarmless },
    ...extra,
  };
}

async function main() {
  await initBackend({ preference: a.backend as BackendName | undefined });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-exp-'));
  try {
    const one = path.join(tmp, 'one.json');
    fs.writeFileSync(
      one,
      JSON.stringify(
        pipeline({
          params,
          evaluate: [
            ...harmfulRefs.map((suite) => ({ suite, role: 'harmful' })),
            { suite: evalHarmless, role: 'harmless' },
            { suite: adversarial, role: 'adversarial', suffixAnalysis: true },
          ],
          sweep,
        }),
      ),
    );
    log('one job: 3 harmful + harmless + adversarial × 18 settings');
    const t0 = performance.now();
    const out = await runPipelineFile(one, path.join(tmp, 'p-one'), quietCtx());
    const oneSeconds = (performance.now() - t0) / 1000;
    const t = out.experiments!;
    log(`one job: ${oneSeconds.toFixed(1)} s, ${t.rows.length} rows, ${t.mcnemar.length} McNemar tests`);

    let separate: { runs: number; seconds: number; compared: number; mismatches: number } | null = null;
    if (a.separate !== 'none') {
      const names = ['demo-harmful:test', 'advbench', 'harmbench_test'];
      let runs = 0, compared = 0, mismatches = 0;
      const t1 = performance.now();
      for (const [si, ref] of harmfulRefs.entries())
        for (const kStar of sweep.kStar)
          for (const clampValue of sweep.clampValue)
            for (const setKind of sweep.setKind) {
              const f = path.join(tmp, `sep-${runs}.json`);
              fs.writeFileSync(f, JSON.stringify(pipeline({ params: { ...params, kStar, clampValue, setKind } }, ref)));
              const r = await runPipelineFile(f, path.join(tmp, `p-sep-${runs}`), quietCtx());
              runs++;
              for (const [m, rate] of Object.entries(r.results.refusal_rate)) {
                const fixed = m === 'base' || m === 'as';
                const row = t.rows.find(
                  (x) => x.suite === names[si] && x.method === m && x.group === null && x.edit !== 'set' && x.kStar === (fixed ? null : kStar) && x.clampValue === (fixed ? null : clampValue) && x.setKind === (fixed ? null : setKind),
                );
                compared++;
                if (!row || Math.abs((row.rate ?? NaN) - rate!) > 1e-6) mismatches++;
              }
              fs.rmSync(path.join(tmp, `p-sep-${runs - 1}`), { recursive: true, force: true });
              if (runs % 6 === 0) log(`separate runs: ${runs}/54 (${((performance.now() - t1) / 1000).toFixed(0)} s)`);
            }
      separate = { runs, seconds: Number(((performance.now() - t1) / 1000).toFixed(2)), compared, mismatches };
    }
    process.stdout.write(
      `${JSON.stringify({
        backend: a.backend ?? 'default',
        limit: LIMIT,
        one_job: {
          seconds: Number(oneSeconds.toFixed(2)),
          experiments_seconds: Number(t.seconds.toFixed(2)),
          rows: t.rows.length,
          mcnemar: t.mcnemar.length,
          conditions_generated: t.generation.conditions,
          conditions_reused: t.generation.reused,
          suffix: t.suffix.map((s) => ({ suite: s.suite, goals: s.goals, jailbroken: s.jailbroken, refusalDrop: s.refusalDrop })),
          warnings: t.warnings,
        },
        separate,
        speedup: separate ? Number((separate.seconds / oneSeconds).toFixed(2)) : null,
      })}\n`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
