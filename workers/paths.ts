/**
 * The one place that knows where the repository's asset folders are: the bundled demo (model, SAEs, suites;
 * `RW_DEMO_DIR` overrides it, as tests and packaged builds do) and the built-in suites. The CLI, the job
 * steps and the workers read these, never their own `path.join(REPO, 'assets', …)`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ASSETS_DIR = path.join(REPO_ROOT, 'assets');
/** The bundled demo as shipped (assets/demo), whatever RW_DEMO_DIR says. */
export const BUNDLED_DEMO_DIR = path.join(ASSETS_DIR, 'demo');
export const BUILTIN_SUITES_DIR = path.join(ASSETS_DIR, 'suites');

/** The demo in use: RW_DEMO_DIR when set, else the bundled one. Read at call time (tests set the env). */
export function demoDir(): string {
  return path.resolve(process.env.RW_DEMO_DIR ?? BUNDLED_DEMO_DIR);
}
