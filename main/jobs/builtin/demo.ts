/** Built-in demo steps: no model needed; used by tests, the e2e and the "try a job" button. */
import type { StepContext } from '../../../common/schemas/job.js';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function count(params: { n?: number; ms?: number }, ctx: StepContext): Promise<{ counted: number }> {
  const n = Math.max(1, Math.min(1_000_000, Math.floor(Number(params.n ?? 50))));
  const ms = Math.max(0, Math.min(60_000, Number(params.ms ?? 100)));
  ctx.progress({ stage: 'counting', fraction: 0 });
  ctx.log(`counting to ${n}, ${ms} ms per tick`);
  for (let i = 1; i <= n; i++) {
    await sleep(ms, ctx.signal);
    ctx.throwIfCancelled();
    ctx.progress({ fraction: i / n });
    if (i % Math.max(1, Math.floor(n / 10)) === 0) ctx.log(`tick ${i}/${n}`);
  }
  ctx.progress({ stage: 'done', fraction: 1 });
  return { counted: n };
}

export async function echo(params: Record<string, unknown>, ctx: StepContext): Promise<Record<string, unknown>> {
  ctx.log('echo');
  return params;
}
