/** Command families beyond the engine's own, each in its module. */
import { registerCommand } from './index.js';

export const registered = registerCommand;
