/**
 * `npm run bench [-- options]`: engine throughput on a synthetic Gemma-2-shaped model (bench/model-shape.ts),
 * per available backend, each in its own process (clean peak RSS, its own thread pool). JSON on stdout;
 * progress on stderr.
 *
 *   --backends wasm,cpu   which backends (default: every available one)
 *   --reps N              timed repetitions per measurement (default 2; best is reported)
 *   --steps N             cached decoding steps timed (default 8)
 *   --slow-models         also run the model on the pure-JS cpu backend and on a software WebGPU
 *                         adapter (lavapipe): minutes per forward; by default they get the roofline only
 *   --compare-torch       also run bench/torch_ref.py (Debian python3-torch, 2 threads) and print, as the
 *                         last line, {"ratio_vs_torch": {...}, "efficiency": {...}}
 *
 * Not a test: it measures.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_ORDER, availableBackends, isBackendName, type BackendName } from '../workers/engine/backend.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Args {
  child: boolean;
  backend: BackendName | null;
  backends: BackendName[] | null;
  reps: number;
  steps: number;
  slowModels: boolean;
  compareTorch: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { child: false, backend: null, backends: null, reps: 2, steps: 8, slowModels: false, compareTorch: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--child') a.child = true;
    else if (k === '--backend') a.backend = v() as BackendName;
    else if (k === '--backends') {
      a.backends = v().split(',').map((s) => s.trim()).filter(Boolean) as BackendName[];
      for (const b of a.backends) if (!isBackendName(b)) throw new Error(`unknown backend ${b} (${BACKEND_ORDER.join(', ')})`);
    } else if (k === '--reps') a.reps = Math.max(1, Number(v()));
    else if (k === '--steps') a.steps = Math.max(2, Number(v()));
    else if (k === '--slow-models') a.slowModels = true;
    else if (k === '--compare-torch') a.compareTorch = true;
    else if (k === '--help' || k === '-h') {
      process.stderr.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0] + '*/\n');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  return a;
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout: out }));
  });
}

function lastJson(stdout: string): Record<string, unknown> | null {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
  }
  return null;
}

async function runTorch(args: Args): Promise<Record<string, unknown>> {
  const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' };
  const probe = await run(py, ['-c', 'import torch'], env);
  if (probe.code !== 0) {
    return { error: `PyTorch not importable by ${py}: apt-get install -y python3-torch (Debian) and rerun` };
  }
  log('torch reference…');
  const r = await run(py, [path.join(here, 'torch_ref.py'), '--reps', String(args.reps), '--steps', String(args.steps)], env);
  const j = lastJson(r.stdout);
  return j ?? { error: `torch_ref.py exited ${r.code} without JSON` };
}

type Measured = Record<string, unknown> & {
  backend?: string;
  roofline?: { gflops: number };
  efficiency?: { forward: number; backward: number };
  forward?: { ms: number; gflops: number; tokens_per_s: number };
  forward_backward?: { ms: number; gflops: number; tokens_per_s: number; ratio_to_forward: number };
  generate?: { step_ms: number; gflops: number; tokens_per_s: number; step_over_forward: number };
};

async function parent(args: Args): Promise<void> {
  const avail = await availableBackends();
  const backends = args.backends ?? avail;
  const results: Measured[] = [];
  for (const b of backends) {
    if (!avail.includes(b)) {
      results.push({ backend: b, error: 'not available here' });
      continue;
    }
    log(`backend ${b}…`);
    const childArgs = [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--backend', b,
      '--reps', String(args.reps), '--steps', String(args.steps)];
    if (args.slowModels) childArgs.push('--slow-models');
    const r = await run(process.execPath, childArgs, { ...process.env, RW_BACKEND: b });
    results.push((lastJson(r.stdout) as Measured | null) ?? { backend: b, error: `child exited ${r.code}` });
  }
  const torch = args.compareTorch ? await runTorch(args) : null;
  const report = {
    model: 'synthetic Gemma-2 (8 layers, d_model 1024, 8 heads, 4 KV heads, head_dim 128, d_mlp 4096, vocab 32000), batch 8×64',
    node: process.version,
    results,
    ...(torch ? { torch } : {}),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  if (torch) {
    const ours = results.find((r) => r.forward && r.forward_backward && r.generate);
    const t = torch as Measured;
    const ratio = (x?: number, y?: number) => (x && y ? Number((x / y).toFixed(3)) : null);
    const summary = {
      backend: ours?.backend ?? null,
      ratio_vs_torch: {
        forward: ratio(ours?.forward?.tokens_per_s, t.forward?.tokens_per_s),
        backward: ratio(ours?.forward_backward?.tokens_per_s, t.forward_backward?.tokens_per_s),
        generate: ratio(ours?.generate?.tokens_per_s, t.generate?.tokens_per_s),
      },
      efficiency: ours?.efficiency ?? null,
      torch_efficiency: t.efficiency ?? null,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
  }
}

async function child(args: Args): Promise<void> {
  const name = args.backend!;
  const { initBackend } = await import('../workers/engine/backend.js');
  const { checkCanHold } = await import('../workers/engine/memory-guard.js');
  const shape = await import('./model-shape.js');
  const { BENCH_SHAPE: S, ROOFLINE } = shape;
  const info = await initBackend({ preference: name });
  const out: Measured = { backend: name, description: info.description };
  const now = () => performance.now();
  const sync = async (t: tf.Tensor) => {
    const s = tf.sum(t);
    await s.data();
    s.dispose();
  };
  const best = (xs: number[]) => Math.min(...xs);

  // Roofline: the backend's own large matmul.
  const cpu = name === 'cpu';
  const m = cpu || info.adapter?.software ? 64 : ROOFLINE.m;
  const a = tf.randomNormal([m, ROOFLINE.k], 0, 1, 'float32', 1);
  const b = tf.randomNormal([ROOFLINE.k, ROOFLINE.n], 0, 1, 'float32', 2);
  const mmFlops = 2 * m * ROOFLINE.k * ROOFLINE.n;
  /** The roofline now: best of `n` matmuls (GFLOP/s). Re-measured next to every timed model run, so
   *  that efficiency compares the two under the same machine load (shared machines are noisy). */
  const rooflineNow = async (n: number) => {
    const times: number[] = [];
    for (let r = 0; r < n; r++) {
      const t0 = now();
      const c = tf.matMul(a, b);
      await sync(c);
      c.dispose();
      times.push(now() - t0);
    }
    return mmFlops / best(times) / 1e6;
  };
  await rooflineNow(1);
  const rooflines: number[] = [await rooflineNow(m === 64 ? 1 : args.reps + 1)];
  out.roofline = { gflops: round(rooflines[0]!), shape: `${m}x${ROOFLINE.k} @ ${ROOFLINE.k}x${ROOFLINE.n}` } as Measured['roofline'];
  log(`${name}: matmul ${out.roofline!.gflops} GFLOP/s`);

  const slow = cpu || (name === 'webgpu' && info.adapter?.software === true);
  if (slow && !args.slowModels) {
    const est = shape.forwardFlops() / (out.roofline!.gflops * 1e9);
    tf.dispose([a, b]);
    out.model = `skipped: ${cpu ? 'cpu is a numerical oracle' : 'a software WebGPU adapter checks correctness, it is no engine'} (a forward would take ~${est < 90 ? `${Math.round(est)} s` : `${Math.round(est / 60)} min`}); --slow-models runs it`;
    out.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }

  const { createModel, hookNames } = await import('../workers/model/index.js');
  const config = shape.benchConfig();
  const rssBefore = process.memoryUsage().rss;
  const wBytes = shape.weightParams() * 4;
  checkCanHold(wBytes + 512 * 1024 * 1024, info, { what: 'the benchmark model' });
  const weights = new Map<string, tf.Tensor>();
  let seed = 10;
  const { expectedWeights } = await import('../workers/model/index.js');
  for (const [n, shp] of expectedWeights(config)) {
    weights.set(n, shp.length === 1 ? tf.zeros(shp) : tf.randomNormal(shp, 0, 0.02, 'float32', seed++));
  }
  const model = createModel(config, weights);
  out.weight_bytes = model.weightBytes();
  // Weights held once: RSS growth from building the model over its float32 weight bytes (wasm's heap
  // never shrinks, so the peak RSS below also carries the largest batch's activations).
  out.load_rss_growth_over_weights = round((process.memoryUsage().rss - rssBefore) / model.weightBytes());
  log(`${name}: model built (${(model.weightBytes() / 2 ** 20).toFixed(0)} MiB of float32 weights)`);

  let s = 12345;
  const ids = Array.from({ length: S.batch }, () =>
    Array.from({ length: S.seq }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return 3 + (s % (S.vocabSize - 3));
    }),
  );
  const batch = { inputIds: ids };
  const tokens = S.batch * S.seq;

  // Forward.
  const fwd: number[] = [];
  const fwdEff: number[] = [];
  for (let r = 0; r < args.reps + 1; r++) {
    const roof = r > 0 ? await rooflineNow(2) : 0;
    if (r > 0) rooflines.push(roof);
    const t0 = now();
    const res = model.forward(batch);
    await sync(res.logits!);
    res.logits!.dispose();
    if (r > 0) {
      fwd.push(now() - t0);
      fwdEff.push(shape.forwardFlops() / (now() - t0) / 1e6 / roof);
    }
    log(`${name}: forward ${(now() - t0).toFixed(0)} ms`);
  }
  const fMs = best(fwd);
  out.forward = { ms: round(fMs), gflops: round(shape.forwardFlops() / fMs / 1e6), tokens_per_s: round((tokens / fMs) * 1e3) };
  process.stdout.write(JSON.stringify(out) + '\n'); // partial results survive a crash later on

  // Forward + backward to every resid_post, through zero probes added by hooks. The recorded forward
  // must fit the backend's memory (wasm: 3.5 GiB): one sequence is run first to measure what a
  // sequence's recorded activations take, and the batch is split into micro-batches that fit.
  // (A guard that throws inside tf.grads would leak the tape's saved tensors: size up front instead.)
  const { memoryBudget } = await import('../workers/engine/memory-guard.js');
  const points = Array.from({ length: S.nLayers }, (_, l) => hookNames.residPost(l));
  let peak = 0;
  const fbOnce = async (rows: number[][]) => {
    const n = rows.length;
    const probes = points.map(() => tf.zeros([n, S.seq, S.dModel]));
    try {
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
        const hooks = points.map((point, i) => ({ point, fn: (x: tf.Tensor3D) => tf.add(x, xs[i]!) as tf.Tensor3D }));
        const o = model.forward({ inputIds: rows }, { hooks });
        const m = tf.mean(o.logits!) as tf.Scalar;
        peak = Math.max(peak, tf.memory().numBytes);
        return m;
      })(probes);
      const total = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(g))));
      await total.data();
      tf.dispose([value, total, ...grads]);
    } finally {
      tf.dispose(probes);
    }
  };
  const held = tf.memory().numBytes;
  peak = 0;
  await fbOnce(ids.slice(0, 1));
  const perSeq = Math.max(1, peak - held);
  const budget = memoryBudget(info).totalBytes;
  let micro: number = S.batch;
  if (budget != null) {
    // 1.5×: the backward's own buffers come on top of the recorded forward.
    micro = Math.max(1, Math.min(S.batch, Math.floor((budget - held) / (1.5 * perSeq))));
    while (S.batch % micro) micro--;
  }
  out.recorded_bytes_per_sequence = perSeq;
  if (micro < S.batch) log(`${name}: recorded forward takes ${(perSeq / 2 ** 20).toFixed(0)} MiB per sequence: micro-batches of ${micro}`);
  const fb: number[] = [];
  const fbEff: number[] = [];
  const fbFlops = shape.forwardFlops() + shape.backwardFlops();
  for (let r = 0; r < args.reps; r++) {
    const roof = await rooflineNow(2);
    rooflines.push(roof);
    const t0 = now();
    for (let i = 0; i < S.batch; i += micro) await fbOnce(ids.slice(i, i + micro));
    fb.push(now() - t0);
    fbEff.push(fbFlops / (now() - t0) / 1e6 / roof);
    log(`${name}: forward+backward ${(now() - t0).toFixed(0)} ms (micro-batch ${micro})`);
  }
  const fbMs = best(fb);
  out.forward_backward = {
    ms: round(fbMs), gflops: round(fbFlops / fbMs / 1e6), tokens_per_s: round((tokens / fbMs) * 1e3),
    ratio_to_forward: round(fbMs / fMs), micro_batch: micro,
  } as Measured['forward_backward'];
  process.stdout.write(JSON.stringify(out) + '\n');

  // KV-cache generation: the prompt pass, then `steps` cached steps (the first is a warm-up).
  const t0 = now();
  const dec = model.startDecoding(batch);
  await dec.lastLogits();
  const promptMs = now() - t0;
  const stepMs: number[] = [];
  let flops = 0;
  for (let k = 0; k < args.steps; k++) {
    const t1 = now();
    dec.push(ids.map((row) => row[k % S.seq]!));
    await dec.lastLogits();
    if (k > 0) {
      stepMs.push(now() - t1);
      flops += shape.decodeStepFlops(S.seq + k + 1);
    }
  }
  dec.dispose();
  const sum = stepMs.reduce((x, y) => x + y, 0);
  const med = [...stepMs].sort((x, y) => x - y)[Math.floor(stepMs.length / 2)]!;
  out.generate = {
    prompt_ms: round(promptMs), step_ms: round(med), gflops: round(flops / sum / 1e6),
    tokens_per_s: round((S.batch * stepMs.length / sum) * 1e3), step_over_forward: round(med / fMs),
  } as Measured['generate'];
  log(`${name}: decoding step ${med.toFixed(1)} ms`);

  const peakRss = process.resourceUsage().maxRSS * 1024;
  out.peak_rss_bytes = peakRss;
  out.baseline_rss_bytes = rssBefore;
  out.peak_rss_over_weights = round(peakRss / model.weightBytes());
  model.dispose();
  tf.dispose([a, b]);
  out.num_tensors_after = tf.memory().numTensors; // 0: the engine leaks nothing across forward, backward, decoding
  out.roofline = { ...out.roofline!, gflops: round(Math.max(...rooflines)), all: rooflines.map(round) } as Measured['roofline'];
  // Achieved / the backend's own matmul rate, best against best: the roofline is re-measured next to
  // every timed run, so both maxima come from the quietest moments of the same run.
  out.efficiency = {
    forward: round(out.forward.gflops / out.roofline!.gflops),
    backward: round(out.forward_backward!.gflops / out.roofline!.gflops),
  };
  out.efficiency_adjacent_median = { forward: round(median(fwdEff)), backward: round(median(fbEff)) };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

const args = parseArgs(process.argv.slice(2));
if (args.child) {
  await child(args);
  process.exit(0); // wasm's worker pool and the webgpu device must not keep the process alive
} else {
  await parent(args);
}
