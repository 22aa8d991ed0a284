/** Command families beyond the engine's own, each in its module. */
import { registerCommand } from './index.js';

registerCommand('sae', 'sae info|encode|top --sae PATH ...', async () => (await import('./sae.js')).runSaeCommand);
registerCommand('demo', 'demo eval [--json]', async () => (await import('./demo.js')).runDemoCommand);
registerCommand('train-sae', 'train-sae --model DIR --layer L --suite FILE --out DIR ...', async () => {
  const { runDemoCommand } = await import('./demo.js');
  return (argv: string[]) => runDemoCommand(['train-sae', ...argv]);
});
registerCommand('run', 'run PIPELINE.json --project DIR [--json] [--fresh]', async () => {
  const { runDiscoverCommand } = await import('./discover.js');
  return (argv: string[]) => runDiscoverCommand(['run', ...argv]);
});
registerCommand('discover', 'discover --demo [--json]', async () => {
  const { runDiscoverCommand } = await import('./discover.js');
  return (argv: string[]) => runDiscoverCommand(['discover', ...argv]);
});
registerCommand('categories', 'categories --project DIR (--demo | --pipeline FILE) [--json]', async () => (await import('./categories.js')).runCategoriesCommand);
registerCommand('probe', 'probe --project DIR [--demo] [--json]', async () => (await import('./probe.js')).runProbeCommand);
