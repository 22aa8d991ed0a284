#!/usr/bin/env node
// The command line runs the TypeScript sources directly through tsx (no build step to forget).
import { register } from 'tsx/esm/api';

register();
try {
  const { main } = await import('../main/cli/index.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // Report here: the threaded wasm runtime rethrows uncaught errors from inside its minified source.
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
