// Electron entry (package.json "main"): enable TypeScript through tsx, then start the main process.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./main.ts', import.meta.url).href);
