/** A StepCtx for the command line: progress lines on stderr, Ctrl-C cancels between batches. */
import type { StepCtx } from '../../workers/refusal/types.js';

export function cliCtx(quiet: boolean): { ctx: StepCtx; dispose(): void } {
  const ac = new AbortController();
  const onSigint = () => {
    process.stderr.write('cancelling after the current batch…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let last = '';
  const ctx: StepCtx = {
    signal: ac.signal,
    progress(stage, fraction, message) {
      const line = `[${stage}] ${(fraction * 100).toFixed(0)}%${message ? ` ${message}` : ''}`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
    log(line) {
      if (!quiet) process.stderr.write(`${line}\n`);
    },
  };
  return { ctx, dispose: () => process.off('SIGINT', onSigint) };
}
