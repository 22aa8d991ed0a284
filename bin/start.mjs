#!/usr/bin/env node
// `npm start`: the Electron app when its binary is installed, otherwise the headless server and the
// URL to open. Both open the last project, or the bundled demo project on first run.
//   npm start -- --headless        force the headless server
//   other arguments are passed to the server (see main/server/cli.ts: --host, --port, --project, --token)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const forceHeadless = args.includes('--headless') || process.env.REFUSAL_WORKBENCH_HEADLESS === '1';
const rest = args.filter((a) => a !== '--headless');

/** Path of the Electron binary, or null when it is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD). */
function electronBinary() {
  try {
    const p = require('electron'); // the npm package exports the binary's path, and throws when missing
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function run(cmd, argv, opts = {}) {
  const child = spawn(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  const forward = (sig) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  return child;
}

function ensureRenderer() {
  if (process.env.REFUSAL_WORKBENCH_SKIP_BUILD === '1') return Promise.resolve();
  if (existsSync(path.join(root, 'renderer', 'dist', 'index.html'))) return Promise.resolve();
  console.log('Building the renderer (first run)…');
  return new Promise((resolve, reject) => {
    const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    const c = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`renderer build failed (${code})`))));
  });
}

await ensureRenderer();
const electron = forceHeadless ? null : electronBinary();
if (electron && !process.env.ELECTRON_RUN_AS_NODE) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  // The app folder: Electron starts package.json's "main" (main/electron/boot.mjs).
  run(electron, [root, ...rest], { env });
} else {
  if (!forceHeadless) console.log('Electron is not installed here: starting the headless server instead.');
  run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'serve.ts'), ...rest]);
}
