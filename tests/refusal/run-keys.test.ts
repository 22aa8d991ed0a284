/** Run and checkpoint keys: a checkpoint is reused only when it was computed from the same params, input bytes and code version. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointValue, RunDir, runKey, setHashCacheFile, sha256File, sha256FileUncached } from '../../workers/refusal/runs.js';

const tmp: string[] = [];
function dir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-keys-'));
  tmp.push(d);
  return d;
}
afterEach(() => {
  setHashCacheFile(undefined);
  for (const d of tmp.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function keyFor(saeFile: string, codeVersion = 1): string {
  return runKey({ step: 'refusal.discover', codeVersion, params: { k: 10 }, inputs: [{ path: saeFile, sha256: sha256File(saeFile) }] });
}

async function attribution(run: RunDir, calls: { n: number }): Promise<{ value: number[]; resumed: boolean }> {
  return run.step('attribution', async () => {
    calls.n++;
    return [calls.n];
  });
}

describe('run keys', () => {
  it('one changed byte of an SAE file makes the next run recompute', async () => {
    const d = dir();
    const sae = path.join(d, 'sae.safetensors');
    fs.writeFileSync(sae, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const calls = { n: 0 };
    const runDir = path.join(d, 'run');
    expect((await attribution(new RunDir(runDir, keyFor(sae)), calls)).resumed).toBe(false);
    expect((await attribution(new RunDir(runDir, keyFor(sae)), calls)).resumed).toBe(true);
    // same size, one byte different, in the middle of the file (beyond the first and last MiB)
    const fd = fs.openSync(sae, 'r+');
    fs.writeSync(fd, Buffer.from([8]), 0, 1, 1.5 * 1024 * 1024);
    fs.closeSync(fd);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(sae, later, later);
    const again = await attribution(new RunDir(runDir, keyFor(sae)), calls);
    expect(again).toEqual({ value: [2], resumed: false });
    expect(calls.n).toBe(2);
  });

  it('a new code version makes the next run recompute', async () => {
    const d = dir();
    const sae = path.join(d, 'sae.bin');
    fs.writeFileSync(sae, 'weights');
    const calls = { n: 0 };
    const runDir = path.join(d, 'run');
    await attribution(new RunDir(runDir, keyFor(sae, 1)), calls);
    expect((await attribution(new RunDir(runDir, keyFor(sae, 1)), calls)).resumed).toBe(true);
    expect((await attribution(new RunDir(runDir, keyFor(sae, 2)), calls)).resumed).toBe(false);
    expect(calls.n).toBe(2);
  });

  it('checkpoints carry {kind, schemaVersion, key}; an unkeyed (old) checkpoint is recomputed; batches too', async () => {
    const d = dir();
    const run = new RunDir(path.join(d, 'run'), 'k1');
    fs.writeFileSync(path.join(run.dir, 'steps', 'layer.json'), JSON.stringify({ layer: 3 }));
    const calls = { n: 0 };
    expect((await attribution(run, calls)).resumed).toBe(false);
    const raw = JSON.parse(fs.readFileSync(path.join(run.dir, 'steps', 'attribution.json'), 'utf8'));
    expect(raw).toMatchObject({ kind: 'refusal-workbench/checkpoint', schemaVersion: 1, key: 'k1', value: [1] });
    expect(checkpointValue(raw)).toEqual([1]);
    expect(checkpointValue({ layer: 3 })).toEqual({ layer: 3 });
    expect((await run.step('layer', async () => ({ layer: 4 }))).value).toEqual({ layer: 4 });
    const b1 = run.batchStore<number[]>();
    b1.put('gen-0', [1, 2]);
    expect(b1.get('gen-0')).toEqual([1, 2]);
    expect(new RunDir(run.dir, 'k2').batchStore<number[]>().get('gen-0')).toBeUndefined();
  });

  it('hashes every byte and caches by path + size + mtime (on disk across processes)', () => {
    const d = dir();
    const f = path.join(d, 'model.safetensors');
    fs.writeFileSync(f, 'abc');
    expect(sha256FileUncached(f)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const cacheFile = path.join(d, 'hash-cache.json');
    setHashCacheFile(cacheFile);
    expect(sha256File(f)).toBe(sha256FileUncached(f));
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    expect(cached[path.resolve(f)].sha256).toBe(sha256FileUncached(f));
    // a cache entry that matches path + size + mtime is trusted (this is what spares re-hashing 5 GB)
    cached[path.resolve(f)].sha256 = 'from-cache';
    fs.writeFileSync(cacheFile, JSON.stringify(cached));
    setHashCacheFile(cacheFile);
    expect(sha256File(f)).toBe('from-cache');
    // a rewrite changes size/mtime: hashed again
    fs.writeFileSync(f, 'abcd');
    expect(sha256File(f)).toBe(sha256FileUncached(f));
  });
});
