/**
 * `probe --project DIR (--demo | PIPELINE.json) [--json] [--fresh] [--discovery RUN_ID] [--top-k K]
 * [--random-draws N] [--random-from any|active]` (issue 6): dense
 * vs refusal-feature vs random-feature linear probes with OOD adversarial evaluation, stored as a probe run
 * with its report files. With --demo the bundled demo is used and, when the project has no discovery run
 * on the demo model, discovery runs first (its CosSim+AP global set gives the refusal features). Progress
 * goes to stderr; with --json the last stdout line is `{"probes": [...]}` (probeCliSummary).
 */
import path from 'node:path';
import { initBackend, type BackendName } from '../../workers/engine/backend.js';
import { demoProbePipeline, findDiscoveryRuns, readProbePipeline, runProbeProject, type ProbeOutcome, type ProbePipeline } from '../../workers/probes/project.js';
import { probeCliSummary } from '../../workers/probes/report.js';
import { runPipelineFile, tempProject } from '../../workers/refusal/project.js';
import type { StepCtx } from '../../workers/refusal/types.js';
import { intFlag, parseFlags, UsageError } from './args.js';
import { demoPipelinePath } from './discover.js';
import { cliCtx } from './progress.js';
import { demoDir as bundledDemo } from '../../workers/paths.js';



function f3(x: number | null): string {
  return x === null ? '—' : x.toFixed(3);
}

export interface ProbeRunOptions {
  project: string;
  /** The bundled demo (RW_DEMO_DIR or assets/demo); otherwise `pipeline` (a probe pipeline file). */
  demo?: boolean;
  pipeline?: string;
  /** Discovery run id for the refusal features (default: the newest on the demo model, else run one). */
  discovery?: string;
  fresh?: boolean;
  runId?: string;
  /** Probe params over the pipeline's (e.g. {randomDraws: 5}). */
  overrides?: Record<string, unknown>;
}

/** The probe run behind the CLI (and usable as a job step): resolves the pipeline, runs discovery first when needed. */
export async function probeRun(o: ProbeRunOptions, ctx: StepCtx): Promise<ProbeOutcome> {
  let pl: ProbePipeline;
  let base: string;
  if (o.demo) {
    const demoDir = bundledDemo();
    let discovery = o.discovery;
    if (!discovery) {
      const found = findDiscoveryRuns(o.project, { modelDir: path.join(demoDir, 'model') });
      if (found.length) {
        discovery = found[0]!.runId;
        ctx.log(`reusing discovery run ${discovery}`);
      } else {
        ctx.log('no discovery run on the demo model in this project: running discovery first');
        const out = await runPipelineFile(demoPipelinePath(o.project), o.project, ctx);
        discovery = out.runId;
        ctx.log(`discovery run ${discovery} done (${out.seconds.toFixed(1)} s)`);
      }
    }
    pl = demoProbePipeline(demoDir, discovery, o.overrides ?? {});
    base = demoDir;
  } else {
    if (!o.pipeline) throw new UsageError('probe needs --demo or a probe pipeline file');
    pl = readProbePipeline(o.pipeline);
    base = path.dirname(path.resolve(o.pipeline));
    if (o.discovery && 'discoveryRun' in pl.refusalFeatures) pl.refusalFeatures.discoveryRun = o.discovery;
    pl.params = { ...pl.params, ...(o.overrides ?? {}) };
  }
  return runProbeProject(pl, base, o.project, ctx, { fresh: !!o.fresh, ...(o.runId ? { runId: o.runId } : {}) });
}

export async function runProbeCommand(argv: string[]): Promise<number> {
  const args = argv[0] === 'probe' ? argv.slice(1) : argv;
  const { values, positionals } = parseFlags(args, {
    project: { type: 'string' },
    demo: { type: 'boolean' },
    pipeline: { type: 'string' },
    json: { type: 'boolean' },
    fresh: { type: 'boolean' },
    discovery: { type: 'string' },
    'run-id': { type: 'string' },
    backend: { type: 'string' },
    quiet: { type: 'boolean' },
    'random-draws': { type: 'string' },
    'top-k': { type: 'string' },
    'random-from': { type: 'string' },
  });
  const overrides: Record<string, number | string> = {};
  if (values['random-from'] !== undefined) {
    if (values['random-from'] !== 'any' && values['random-from'] !== 'active') throw new UsageError('--random-from must be any or active');
    overrides.randomFrom = values['random-from'];
  }
  if (values['random-draws'] !== undefined) overrides.randomDraws = Math.max(1, intFlag(values['random-draws'], 'random-draws'));
  if (values['top-k'] !== undefined) overrides.refusalTopK = Math.max(1, intFlag(values['top-k'], 'top-k'));
  const pipelineFile = values.pipeline ?? positionals[0];
  if (!values.demo && !pipelineFile) throw new UsageError('probe needs --demo or a probe pipeline file');
  const project = values.project ?? (values.demo ? tempProject() : undefined);
  if (!project) throw new UsageError('missing --project DIR');
  await initBackend(values.backend ? { preference: values.backend as BackendName } : {});
  const { ctx: base0, dispose } = cliCtx(!!values.quiet);
  const ctx = values.quiet ? { ...base0, progress: () => {} } : base0;
  try {
    const out = await probeRun(
      { project, demo: !!values.demo, pipeline: pipelineFile, discovery: values.discovery, fresh: !!values.fresh, overrides, ...(values['run-id'] ? { runId: values['run-id'] } : {}) },
      ctx,
    );
    if (!values.json) {
      process.stdout.write(`probe run ${out.runId} → ${out.runDir} (${out.seconds.toFixed(1)} s)\n`);
      for (const p of out.result.probes) {
        process.stdout.write(
          `${p.name.padEnd(18)} layer ${p.layer === null ? '—' : String(p.layer)}  val ${f3(p.val_acc)}  OOD ${f3(p.ood_acc)} [${f3(p.ood_acc_ci[0])}, ${f3(p.ood_acc_ci[1])}]  AUROC ${f3(p.auroc)}  ${p.features}\n`,
        );
      }
      process.stdout.write(`report: ${out.files['probe-report.html']}\n`);
    } else process.stdout.write(`${probeCliSummary(out.result)}\n`);
    return 0;
  } catch (e) {
    if ((e as Error).name === 'AbortError' || ctx.signal.aborted) {
      process.stderr.write('cancelled; finished labelling batches are kept in the run folder (rerun to resume)\n');
      return 130;
    }
    if (e instanceof UsageError) throw e;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    dispose();
  }
}
