// Worker-thread entry: enable TypeScript through tsx (so workers/ .ts files run without a build),
// then load the step runner. Plain JS because it must run before any loader is registered.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker.ts', import.meta.url).href);
