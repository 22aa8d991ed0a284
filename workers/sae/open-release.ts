/** Open SAEs of a registry release from the local Hugging Face cache (the registry lookup behind `sae info --release` and the Models view). */
import { openSae, type LoadSaeOptions, type SaeSource } from './load.js';
import { registryLoadOptions, type LocatedRelease, type SaeReleaseEntry } from './releases.js';

/** Open one located registry SAE (headers only) with the options SAELens's from_pretrained applies. */
export function openRegistrySae(located: LocatedRelease, e: SaeReleaseEntry, extra: LoadSaeOptions = {}): SaeSource {
  const s = located.saes.find((x) => x.entry === e);
  if (!s?.path) throw new Error(`${located.release.id} ${e.id} is not downloaded${s?.problem ? ` (${s.problem})` : ''}; run: ${located.download}`);
  const src = openSae(s.path, { ...registryLoadOptions(located.release, e), ...extra });
  src.meta.notes.unshift(`release ${located.release.id} ${e.id} (${located.release.repoId}@${located.commit?.slice(0, 12) ?? '?'})`);
  return src;
}
