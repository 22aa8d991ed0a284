/**
 * Multithreaded tfjs-backend-wasm in Node (ENGINE-NOTES.md, "wasm in Node" item 1).
 *
 * tfjs 4.22 hard-codes `WASM_HAS_MULTITHREAD_SUPPORT = false` under Node because emscripten's pthread
 * workers are given `blob:` URLs (the worker script, and the factory source as `mainScriptUrlOrBlob`),
 * which Node's `worker_threads` cannot load. This module, called before `tf.setBackend('wasm')`:
 *
 *  - wraps `globalThis.Blob` so that the parts of every Blob are remembered (Blob content cannot be read
 *    synchronously in Node, but `URL.createObjectURL` is synchronous);
 *  - wraps `URL.createObjectURL` so that the emscripten worker Blob is written to a real temp `.cjs`
 *    file, preceded by a prelude that defines what the factory's source refers to from the bundle's
 *    closure (`require$$0..4`, `commonjsGlobal`, `__dirname`, `_scriptDir`) and that makes the worker's
 *    own `URL.createObjectURL(mainScriptBlob)` return the path of the factory source, also written out;
 *  - sets the flag and the thread count (the backend otherwise starts logical_cores / 2 threads, which is
 *    1 on a 2-vCPU machine).
 *
 * Only the tfjs internals named above are touched; everything is undone by `restore()` except the flag.
 * Temp files are removed at process exit.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const require = createRequire(import.meta.url);

const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';

export interface WasmThreadsPatch {
  dir: string;
  /** Workers started while the patch was installed (emscripten's pthread pool). */
  workers(): number;
  /** Undo the shims and unref the pool's workers so they do not keep the process alive. */
  restore(): void;
}

let tmpDir: string | null = null;

/** emscripten's pthread pool (all workers are started during backend init). */
const poolWorkers: Array<{ ref(): void; unref(): void }> = [];
let poolRefd = true;

/** Keeps the pool's workers referenced (they then keep the event loop alive). */
export function refWasmWorkers(): void {
  if (poolRefd) return;
  for (const w of poolWorkers) w.ref();
  poolRefd = true;
}

/** Lets the process exit while the pool's workers idle. */
export function unrefWasmWorkers(): void {
  if (!poolRefd) return;
  for (const w of poolWorkers) w.unref();
  poolRefd = false;
}

const IDLE_MS = 250;
let lastUse = 0;
let idleTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Called by the heavy kernels (BatchMatMul): keeps the pool referenced while the engine works and
 * unreferences it IDLE_MS after the last call, so that a script still exits by itself. (Measured: with
 * the pool unreferenced during compute, matmuls often ran at the one-thread rate.)
 */
export function touchWasmWorkers(): void {
  if (poolWorkers.length === 0) return;
  lastUse = Date.now();
  refWasmWorkers();
  if (idleTimer) return;
  const check = () => {
    if (Date.now() - lastUse >= IDLE_MS) {
      idleTimer = null;
      unrefWasmWorkers();
    } else {
      idleTimer = setTimeout(check, IDLE_MS);
      idleTimer.unref?.();
    }
  };
  idleTimer = setTimeout(check, IDLE_MS);
  idleTimer.unref?.();
}

function ensureTmpDir(): string {
  if (tmpDir) return tmpDir;
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-wasm-threads-'));
  const dir = tmpDir;
  process.once('exit', () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  });
  return dir;
}

function partsToString(parts: unknown[]): string | null {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (p instanceof Uint8Array) out += Buffer.from(p).toString('utf8');
    else if (p instanceof ArrayBuffer) out += Buffer.from(p).toString('utf8');
    else return null;
  }
  return out;
}

/**
 * Prelude for the factory source, evaluated in the worker's global scope by emscripten's
 * `importScripts` (indirect eval): `var` here become globals the factory text can see.
 */
function factoryPrelude(bundleDir: string, self: string): string {
  return [
    'var require$$0 = require("fs");',
    'var require$$1 = require("path");',
    'var require$$2 = require("worker_threads");',
    'var require$$3 = require("perf_hooks");',
    'var require$$4 = require("os");',
    'var commonjsGlobal = globalThis;',
    `var __dirname = ${JSON.stringify(bundleDir)};`,
    `var _scriptDir = ${JSON.stringify(self)};`,
    '',
  ].join('\n');
}

/** Prelude for the worker script: its `URL.createObjectURL(mainScriptBlob)` must give our file. */
function workerPrelude(factoryFile: string): string {
  return [
    '"use strict";',
    `(function(){ var f = ${JSON.stringify(factoryFile)};`,
    '  var U = globalThis.URL; U.createObjectURL = function(){ return f; }; U.revokeObjectURL = function(){}; })();',
    '',
  ].join('\n');
}

/**
 * Installs the Blob/URL shims. Call before `tf.setBackend('wasm')`; call `restore()` once the backend is
 * ready (workers are all spawned by then: emscripten preallocates its pool at init).
 */
export function installWasmThreadsPatch(bundleDir: string): WasmThreadsPatch {
  const dir = ensureTmpDir();
  // The bundle's `require$$4` is the CJS `os` object and `require("worker_threads")` the CJS module
  // object: patching their properties reaches the bundle's closure.
  const cjsOs = require('os') as typeof os;
  const wt = require('worker_threads') as typeof import('node:worker_threads');
  const origCpus = cjsOs.cpus;
  const OrigWorker = wt.Worker;
  const started: InstanceType<typeof OrigWorker>[] = [];
  // backend.cc starts logical_cores / 2 threads (it assumes SMT); report twice the cores so that it
  // starts one per core, as the explicit setThreadsCount asks.
  cjsOs.cpus = () => {
    const c = origCpus.call(cjsOs);
    return [...c, ...c];
  };
  class TrackedWorker extends OrigWorker {
    constructor(...args: ConstructorParameters<typeof OrigWorker>) {
      super(...args);
      started.push(this);
    }
  }
  (wt as { Worker: typeof OrigWorker }).Worker = TrackedWorker;
  const OrigBlob = globalThis.Blob;
  const origCreate = URL.createObjectURL;
  const origRevoke = URL.revokeObjectURL;
  const parts = new WeakMap<Blob, string>();
  let factoryFile: string | null = null;
  let counter = 0;

  class RecordingBlob extends OrigBlob {
    constructor(blobParts?: BlobPart[], options?: BlobPropertyBag) {
      super(blobParts, options);
      const text = blobParts ? partsToString(blobParts as unknown[]) : '';
      if (text != null) {
        parts.set(this, text);
        if (text.startsWith(FACTORY_PREFIX)) {
          const f = path.join(dir, `factory-${process.pid}-${counter++}.cjs`);
          fs.writeFileSync(f, factoryPrelude(bundleDir, f) + text);
          factoryFile = f;
        }
      }
    }
  }

  const files = new Set<string>();
  URL.createObjectURL = function createObjectURL(obj: Blob): string {
    const text = parts.get(obj);
    if (text == null) return origCreate.call(URL, obj);
    if (text.startsWith(FACTORY_PREFIX) && factoryFile) return factoryFile;
    const isWorker = text.includes('WasmBackendModuleThreadedSimd(Module)');
    const file = path.join(dir, `blob-${process.pid}-${counter++}.cjs`);
    if (isWorker) {
      if (!factoryFile) throw new Error('wasm threads: worker requested before the factory source was seen');
      fs.writeFileSync(file, workerPrelude(factoryFile) + text);
    } else {
      fs.writeFileSync(file, text);
    }
    files.add(file);
    return file;
  } as typeof URL.createObjectURL;
  URL.revokeObjectURL = function revokeObjectURL(url: string): void {
    if (files.has(url)) return; // workers may still be starting from it; removed at exit with the dir
    origRevoke.call(URL, url);
  };
  globalThis.Blob = RecordingBlob as typeof Blob;

  return {
    dir,
    workers: () => started.length,
    restore() {
      cjsOs.cpus = origCpus;
      (wt as { Worker: typeof OrigWorker }).Worker = OrigWorker;
      poolWorkers.push(...started);
      poolRefd = true;
      unrefWasmWorkers();
      globalThis.Blob = OrigBlob;
      URL.createObjectURL = origCreate;
      URL.revokeObjectURL = origRevoke;
    },
  };
}
