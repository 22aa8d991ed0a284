/**
 * The Hugging Face cache as it is on disk (repo root with refs/main, snapshots, symlinked blobs) for a
 * model and for Gemma Scope / Llama Scope releases: the resolver, the registry lookup, the CLI and the
 * API the Models view calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSaeCommand } from '../../main/cli/sae.js';
import { WorkbenchCore } from '../../main/server/core.js';
import { Settings } from '../../main/settings/settings.js';
import type { SaeReleaseInfo, SaeReleaseLocation } from '../../common/api.js';
import { FileFormatError } from '../../workers/engine/errors.js';
import { hfHubCacheDir, hfRepoFolderName, resolveHfPath, resolveModelDir } from '../../workers/engine/io/hf-cache.js';
import { inspectModel } from '../../workers/model/loader.js';
import { openSae } from '../../workers/sae/load.js';
import { openRegistrySae } from '../../workers/sae/open-release.js';
import { getRelease, locateRelease, pickReleaseSaes } from '../../workers/sae/releases.js';
import { COMMIT, addRepo, addTinyModel, gemmaScopeNpz } from '../helpers/hf-tree.js';
import { fixturesDir } from '../helpers/fixtures.js';

let tmp: string;
let cache: string;
let gsRoot: string;
const REL = 'gemma-scope-2b-pt-res-canonical';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await runSaeCommand(argv), out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

function fileError(fn: () => unknown, re: RegExp): FileFormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FileFormatError);
  expect((err as Error).message).toMatch(re);
  return err as FileFormatError;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-cache-'));
  cache = path.join(tmp, 'hub');
  addTinyModel(cache, 'google/gemma-2-2b-it');
  // the canonical 65k dictionaries of layers 5 and 12, at the paths SAELens's yaml gives them
  const { picks } = pickReleaseSaes({ release: REL, width: '65k', layers: [5, 12] });
  const files: Record<string, Buffer> = {};
  picks.forEach((e, i) => (files[`${e.path}/params.npz`] = gemmaScopeNpz(tmp, 2304, 8, 10 + i)));
  gsRoot = addRepo(cache, 'google/gemma-scope-2b-pt-res', files);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('HF cache resolution', () => {
  it('cache folder from HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, ~/.cache/huggingface/hub', () => {
    expect(hfHubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(hfHubCacheDir({ HF_HOME: '/b' })).toBe('/b/hub');
    expect(hfHubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(hfHubCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    expect(hfRepoFolderName('google/gemma-2-2b-it')).toBe('models--google--gemma-2-2b-it');
  });

  it('a repo root resolves through refs/main to its snapshot; a snapshot or a path inside it stays', () => {
    const snap = path.join(gsRoot, 'snapshots', COMMIT);
    const a = resolveHfPath(gsRoot);
    expect(a.path).toBe(snap);
    expect(a.commit).toBe(COMMIT);
    expect(a.repoId).toBe('google/gemma-scope-2b-pt-res');
    expect(resolveHfPath(snap).path).toBe(snap);
    const inner = resolveHfPath(path.join(snap, 'layer_5'));
    expect(inner.subpath).toBe('layer_5');
    expect(resolveHfPath(tmp).path).toBe(tmp);
  });

  it('a model repo root opens (inspect follows the symlinked blobs)', () => {
    const root = path.join(cache, 'models--google--gemma-2-2b-it');
    const info = inspectModel(root);
    expect(info.dir).toBe(path.join(root, 'snapshots', COMMIT));
    expect(info.config.nLayers).toBe(4);
  });

  it('an incomplete download is an error naming the file: dangling blob symlink, .incomplete blob, missing shard, missing snapshot', () => {
    const root = addRepo(path.join(tmp, 'broken'), 'org/model', { 'config.json': Buffer.from('{}'), 'model-00001-of-00002.safetensors': Buffer.from('x') });
    const snap = path.join(root, 'snapshots', COMMIT);
    fs.writeFileSync(
      path.join(snap, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
    fs.writeFileSync(path.join(root, 'blobs', 'deadbeef.incomplete'), 'partial');
    const e = fileError(() => resolveModelDir(root), /model-00002-of-00002\.safetensors.*missing.*deadbeef\.incomplete/);
    expect(e.file).toContain('model-00002-of-00002.safetensors');
    // a symlink whose blob is gone
    const blob = fs.readlinkSync(path.join(snap, 'config.json'));
    fs.rmSync(path.resolve(snap, blob));
    fileError(() => resolveHfPath(root), /config\.json|symlink to blob/);
    // refs/main → a snapshot that is not there
    const r2 = addRepo(path.join(tmp, 'broken2'), 'org/m2', { 'config.json': Buffer.from('{}') });
    fs.writeFileSync(path.join(r2, 'refs', 'main'), 'b'.repeat(40));
    fileError(() => resolveHfPath(r2), /refs\/main points at b{40}/);
  });
});

describe('release registry in the HF cache', () => {
  it('finds the picked SAEs and says exactly what to download for the rest', () => {
    const loc = locateRelease({ release: REL, width: '65k', layers: [5, 12, 20] }, { cacheDir: cache });
    expect(loc.commit).toBe(COMMIT);
    expect(loc.saes.map((s) => !!s.path)).toEqual([true, true, false]);
    const l20 = getRelease(REL).saes.find((s) => s.layer === 20 && s.width === '65k')!;
    expect(loc.download).toBe(`huggingface-cli download google/gemma-scope-2b-pt-res --include ${l20.path}/params.npz`);
    expect(loc.saes[2]!.problem).toMatch(/not in snapshot|not downloaded/);
  });

  it('opens as SAELens from_pretrained would: hook, layer, the canonical (bare) Neuronpedia id', () => {
    const loc = locateRelease({ release: REL, width: '65k', layers: [5] }, { cacheDir: cache });
    const src = openRegistrySae(loc, loc.saes[0]!.entry);
    expect(src.meta.layer).toBe(5);
    expect(src.meta.hookPoint).toBe('blocks.5.hook_resid_post');
    expect(src.meta.neuronpediaId).toBe('gemma-2-2b/5-gemmascope-res-65k');
    expect(src.meta.dIn).toBe(2304);
    src.close();
    // the same file opened by path inside the cache gets the registry's id too
    const byPath = openSae(loc.saes[0]!.path!);
    expect(byPath.meta.neuronpediaId).toBe('gemma-2-2b/5-gemmascope-res-65k');
    byPath.close();
  });

  it('CLI: sae releases, sae info --release (found, and missing with the download command)', async () => {
    const list = await capture(['releases']);
    expect(list.code).toBe(0);
    for (const id of ['gemma-scope-2b-pt-res', REL, 'gemma-scope-9b-pt-res', 'llama_scope_lxr_8x', 'llama_scope_lxr_32x']) expect(list.out).toContain(id);
    const ok = await capture(['info', '--release', REL, '--width', '65k', '--layer', '12', '--cache-dir', cache, '--json']);
    expect(ok.code).toBe(0);
    const j = JSON.parse(ok.out) as { complete: boolean; saes: Array<{ path: string; neuronpedia: string; dIn: number }> };
    expect(j.complete).toBe(true);
    expect(j.saes[0]!.path).toContain(path.join('snapshots', COMMIT, 'layer_12', 'width_65k'));
    expect(j.saes[0]!.neuronpedia).toBe('gemma-2-2b/12-gemmascope-res-65k');
    const miss = await capture(['info', '--release', REL, '--width', '65k', '--layer', '20', '--cache-dir', cache]);
    expect(miss.code).toBe(3);
    expect(miss.out).toMatch(/huggingface-cli download google\/gemma-scope-2b-pt-res --include layer_20\/width_65k\/average_l0_\d+\/params\.npz/);
  });

  it('CLI: sae info on a Llama Scope repo root lists its per-layer SAEs', async () => {
    const raw = path.join(fixturesDir, 'sae-saelens', 'raw_llamascope', 'L1R-8x');
    const hp = JSON.parse(fs.readFileSync(path.join(raw, 'hyperparams.json'), 'utf8')) as Record<string, unknown>;
    const w = fs.readFileSync(path.join(raw, 'checkpoints', 'final.safetensors'));
    const files: Record<string, Buffer> = {};
    for (const l of [1, 2]) {
      files[`Tiny-L${l}R-8x/hyperparams.json`] = Buffer.from(JSON.stringify({ ...hp, hook_point_in: `blocks.${l}.hook_resid_post`, hook_point_out: `blocks.${l}.hook_resid_post` }));
      files[`Tiny-L${l}R-8x/checkpoints/final.safetensors`] = w;
    }
    const root = addRepo(cache, 'test/Tiny-LXR-8x', files);
    const r = await capture(['info', '--sae', root, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { layers: Array<{ layer: number; format: string; dSae: number }> };
    expect(j.layers.map((x) => [x.layer, x.format, x.dSae])).toEqual([
      [1, 'llamascope', 512],
      [2, 'llamascope', 512],
    ]);
  });

  it('API (saes.releases, saes.locate) finds the release and its chat model in HF_HUB_CACHE', async () => {
    const core = new WorkbenchCore({ settings: Settings.open(path.join(tmp, 'cfg')), shell: 'test', projectsDir: path.join(tmp, 'projects'), env: { HF_HUB_CACHE: cache } });
    try {
      const rel = await core.dispatch('saes.releases', {});
      expect(rel.ok).toBe(true);
      const infos = (rel as { result: SaeReleaseInfo[] }).result;
      const canon = infos.find((x) => x.id === REL)!;
      expect(canon.widths).toContain('65k');
      expect(canon.chatModels).toEqual(['google/gemma-2-2b-it']);
      const r = await core.dispatch('saes.locate', { release: REL, width: '65k', layers: [5, 12] });
      expect(r.ok).toBe(true);
      const loc = (r as { result: SaeReleaseLocation }).result;
      expect(loc.complete).toBe(true);
      expect(loc.saes.map((s) => s.neuronpedia)).toEqual(['gemma-2-2b/5-gemmascope-res-65k', 'gemma-2-2b/12-gemmascope-res-65k']);
      const chat = loc.models.find((m) => m.repoId === 'google/gemma-2-2b-it')!;
      expect(chat.path).toBe(path.join(cache, 'models--google--gemma-2-2b-it', 'snapshots', COMMIT));
      expect(loc.models.find((m) => m.repoId === 'google/gemma-2-2b')!.path).toBeNull();
      const bad = await core.dispatch('saes.locate', { release: 'nope' });
      expect(bad.ok).toBe(false);
    } finally {
      await core.close();
    }
  });
});
