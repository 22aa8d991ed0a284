/**
 * `run PIPELINE.json --project DIR [--json] [--run-id ID] [--fresh]` and `discover --demo [--json]`:
 * the refusal-feature discovery pipeline (issue 5). Progress goes to stderr; with --json the last stdout
 * line is the summary JSON. Ctrl-C cancels between batches and leaves the run folder consistent
 * (checkpoints are atomic; the next run with the same pipeline resumes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../workers/engine/backend.js';
import { demoPipeline, formatPlan, planPipelineFile, runPipelineFile, tempProject, type RunOutcome } from '../../workers/refusal/project.js';
import { writeJsonAtomic } from '../../workers/refusal/runs.js';
import type { StepCtx } from '../../workers/refusal/types.js';
import { parseFlags, UsageError } from './args.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The demo's pipeline: assets/demo/pipeline.json if present, else the default one written into the project. */
export function demoPipelinePath(project: string): string {
  const demo = process.env.RW_DEMO_DIR ?? path.join(REPO, 'assets', 'demo');
  const own = path.join(demo, 'pipeline.json');
  if (fs.existsSync(own)) return own;
  if (!fs.existsSync(path.join(demo, 'model', 'config.json')))
    throw new UsageError(`the bundled demo is missing (${demo}); build it with npm run build:demo`);
  const file = path.join(project, 'demo-pipeline.json');
  writeJsonAtomic(file, demoPipeline(demo));
  return file;
}

function makeCtx(signal: AbortSignal, quiet: boolean): StepCtx {
  let last = '';
  return {
    signal,
    progress(stage, fraction, message) {
      if (quiet) return;
      const line = `[${stage}] ${(fraction * 100).toFixed(0)}%${message ? ` ${message}` : ''}`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
    log(line) {
      if (!quiet) process.stderr.write(`${line}\n`);
    },
  };
}

export function summary(o: RunOutcome): Record<string, unknown> {
  return {
    layer: o.results.layer,
    k_star: o.results.kStar,
    clamp_value: o.results.clampValue,
    refusal_rate: o.results.refusal_rate,
    harmless_refusal_rate: o.results.harmless_refusal_rate,
    graph: o.results.graph
      ? { nodes: o.results.graph.nodes, edges: o.results.graph.edges, upward_edges: o.results.graph.upward_edges }
      : { nodes: 0, edges: 0, upward_edges: 0 },
    ...(o.results.ce ? { ce: o.results.ce } : {}),
    ...(o.results.mechanism ? { mechanism: o.results.mechanism } : {}),
    ...(o.experiments
      ? { experiments: { rows: o.experiments.rows, mcnemar: o.experiments.mcnemar, agreement: o.experiments.agreement, suffix: o.experiments.suffix, warnings: o.experiments.warnings, generation: o.experiments.generation } }
      : {}),
    ...(o.results.warnings.length ? { warnings: o.results.warnings } : {}),
    seconds: Number(o.seconds.toFixed(2)),
    memory: { planned_peak_bytes: o.memory.plannedPeakBytes, cap_bytes: Number.isFinite(o.memory.capBytes) ? o.memory.capBytes : null, resident_sae_layers_peak: o.memory.peakResidentSaeLayers },
  };
}

export async function runDiscoverCommand(argv: string[]): Promise<number> {
  let args = argv;
  let mode: 'run' | 'discover' = argv.includes('--demo') ? 'discover' : 'run';
  if (args[0] === 'run' || args[0] === 'discover') {
    mode = args[0];
    args = args.slice(1);
  }
  const { values, positionals } = parseFlags(args, {
    project: { type: 'string' },
    json: { type: 'boolean' },
    demo: { type: 'boolean' },
    'run-id': { type: 'string' },
    fresh: { type: 'boolean' },
    backend: { type: 'string' },
    quiet: { type: 'boolean' },
    'memory-cap': { type: 'string' },
    plan: { type: 'boolean' },
  });
  const capFlag = values['memory-cap'];
  let memoryCapBytes: number | 'one-sae' | undefined;
  if (capFlag !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(capFlag);
    if (capFlag === 'one-sae') memoryCapBytes = 'one-sae';
    else if (m) memoryCapBytes = Number(m[1]) * ({ b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase()] ?? 1);
    else throw new UsageError(`--memory-cap: expected bytes (e.g. 512MiB) or "one-sae", got "${capFlag}"`);
  }
  let pipeline: string;
  let project: string;
  if (mode === 'discover') {
    if (!values.demo && !positionals[0]) throw new UsageError('discover needs --demo or a pipeline file');
    project = values.project ?? tempProject();
    pipeline = values.demo ? demoPipelinePath(project) : positionals[0];
  } else {
    if (!positionals[0]) throw new UsageError('run needs a PIPELINE.json');
    if (!values.project) throw new UsageError('missing --project DIR');
    pipeline = positionals[0];
    project = values.project;
  }
  if (values.plan) {
    let plan;
    try {
      plan = planPipelineFile(pipeline, typeof memoryCapBytes === 'number' ? memoryCapBytes : undefined);
    } catch (e) {
      // a suite (or pipeline) error fails the plan with the message the run would give
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(values.json ? `${JSON.stringify(plan)}\n` : `${formatPlan(plan)}\n`);
    return 0;
  }
  await initBackend({ preference: values.backend as never });
  const ac = new AbortController();
  const onSig = () => {
    process.stderr.write('\ncancelling after the current batch… (Ctrl-C again to force)\n');
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSig);
  try {
    const out = await runPipelineFile(pipeline, project, makeCtx(ac.signal, !!values.quiet), {
      runId: values['run-id'],
      fresh: !!values.fresh,
      memoryCapBytes,
    });
    const s = summary(out);
    if (values.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else {
      process.stdout.write(`run ${out.runId} → ${out.runDir}\n`);
      process.stdout.write(`refusal rate (harmful):  ${JSON.stringify(out.results.refusal_rate)}\n`);
      process.stdout.write(`refusal rate (harmless): ${JSON.stringify(out.results.harmless_refusal_rate)}\n`);
      process.stdout.write(`graph: ${JSON.stringify(s.graph)}; ${out.seconds.toFixed(1)} s\n`);
      if (out.experiments)
        process.stdout.write(`experiments: ${out.experiments.rows.length} rows, ${out.experiments.mcnemar.length} McNemar tests → ${path.join(out.runDir, 'experiments.csv')}\n`);
      for (const w of [...out.results.warnings, ...(out.experiments?.warnings ?? [])]) process.stdout.write(`warning: ${w}\n`);
    }
    return 0;
  } catch (e) {
    if ((e as Error).name === 'AbortError' || ac.signal.aborted) {
      process.stderr.write('cancelled; the run folder keeps every finished step and batch (rerun to resume)\n');
      return 130;
    }
    if (e instanceof UsageError) throw e;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSig);
  }
}
