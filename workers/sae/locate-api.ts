/** The `saes.locate` API answer: a release's picked SAEs and its models in the local HF cache, as plain data. */
import fs from 'node:fs';
import path from 'node:path';
import type { SaeReleaseLocation } from '../../common/api.js';
import { hfHubCacheDir, hfRepoFolderName, resolveModelDir } from '../engine/io/hf-cache.js';
import { locateRelease, releaseSummary, type ReleaseQuery } from './releases.js';

export function locateReleaseForApi(q: ReleaseQuery, env: NodeJS.ProcessEnv = process.env): SaeReleaseLocation {
  const cacheDir = hfHubCacheDir(env);
  const loc = locateRelease(q, { cacheDir });
  const models = [loc.release.model, ...loc.release.chatModels]
    .filter((m, i, a) => a.indexOf(m) === i)
    .map((repoId) => {
      const download = `huggingface-cli download ${repoId} --include config.json tokenizer.json tokenizer_config.json '*.safetensors' model.safetensors.index.json`;
      const root = path.join(cacheDir, hfRepoFolderName(repoId));
      if (!fs.existsSync(root)) return { repoId, path: null, problem: `${repoId} is not in the Hugging Face cache ${cacheDir}`, download };
      try {
        return { repoId, path: resolveModelDir(root), problem: null, download };
      } catch (e) {
        return { repoId, path: null, problem: (e as Error).message, download };
      }
    });
  return {
    release: releaseSummary(loc.release),
    cacheDir,
    commit: loc.commit,
    complete: loc.complete,
    download: loc.download,
    saes: loc.saes.map((s) => ({ id: s.entry.id, layer: s.entry.layer, width: s.entry.width, l0: s.entry.l0 ?? null, hook: s.entry.hook, neuronpedia: s.entry.neuronpedia, path: s.path, problem: s.problem })),
    models,
    notes: loc.notes,
  };
}
