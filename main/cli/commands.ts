/** Command families beyond the engine's own, each in its module. */
import { registerCommand } from './index.js';

registerCommand('sae', 'sae info|encode|top --sae PATH ...', async () => (await import('./sae.js')).runSaeCommand);
