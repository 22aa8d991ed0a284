/**
 * The SAE release registry (assets/sae-releases.json, generated from SAELens's pretrained_saes.yaml by
 * scripts/sae-releases-from-saelens.py): per release the HF repo, format, hook and per-SAE layer, width,
 * L0, Neuronpedia id and norm scaling factor. `locateRelease` finds a release's files in the local
 * Hugging Face cache, or says exactly which `huggingface-cli download … --include …` fetches them;
 * `openRegistrySae` opens one with the options SAELens's from_pretrained would apply.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FileFormatError } from '../engine/errors.js';
import { hfHubCacheDir, hfRepoFolderName, resolveHfPath } from '../engine/io/hf-cache.js';
import type { LoadSaeOptions } from './load.js';

export const RELEASES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/sae-releases.json');

const SaeEntrySchema = z
  .object({
    id: z.string().min(1),
    path: z.string().min(1),
    layer: z.number().int().nonnegative(),
    width: z.string().nullable(),
    dSae: z.number().int().positive().nullable(),
    l0: z.number().nullable().optional(),
    hook: z.string().min(1),
    canonical: z.boolean().optional(),
    neuronpedia: z.string().nullable(),
    normScalingFactor: z.number().positive().nullable().optional(),
  })
  .strict();

const ReleaseSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    repoId: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
    format: z.enum(['gemmascope', 'llamascope', 'saelens']),
    site: z.enum(['res', 'mlp', 'att']),
    conversion: z.string(),
    model: z.string(),
    chatModels: z.array(z.string()),
    dIn: z.number().int().positive(),
    neuronpediaModel: z.string().nullable(),
    saes: z.array(SaeEntrySchema).min(1),
  })
  .strict();

const RegistrySchema = z
  .object({
    schemaVersion: z.literal(1),
    source: z.string(),
    releases: z.array(ReleaseSchema),
    notLoadable: z.array(z.object({ id: z.string(), repoId: z.string(), reason: z.string() }).strict()),
  })
  .strict();

export type SaeRelease = z.infer<typeof ReleaseSchema>;
export type SaeReleaseEntry = z.infer<typeof SaeEntrySchema>;
export type SaeRegistry = z.infer<typeof RegistrySchema>;

let cached: SaeRegistry | null = null;

/** The registry (validated once). */
export function saeRegistry(file: string = RELEASES_FILE): SaeRegistry {
  if (file === RELEASES_FILE && cached) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FileFormatError(file, `cannot read the SAE release registry (${(e as Error).message})`);
  }
  const r = RegistrySchema.safeParse(raw);
  if (!r.success) throw new FileFormatError(file, `not a valid SAE release registry: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (file === RELEASES_FILE) cached = r.data;
  return r.data;
}

export function getRelease(id: string): SaeRelease {
  const reg = saeRegistry();
  const r = reg.releases.find((x) => x.id === id);
  if (r) return r;
  const nl = reg.notLoadable.find((x) => x.id === id);
  if (nl) throw new Error(`release "${id}" (${nl.repoId}) is known but not loadable: ${nl.reason}`);
  throw new Error(`unknown SAE release "${id}" (known: ${reg.releases.map((x) => x.id).join(', ')})`);
}

export interface ReleaseQuery {
  release: string;
  /** Layers to pick (default: every layer the release has). */
  layers?: number[];
  /** Width label ("65k"); default: the only width, or an error listing them. */
  width?: string;
  /** Exact L0 for a non-canonical release; default: the canonical pick when known, else the closest to targetL0. */
  l0?: number;
  /** Closest-L0 rule when no canonical pick is known (default 100, as the gemma-scope tree loader). */
  targetL0?: number;
  /** An SAE id of the release (e.g. "layer_5/width_65k/canonical"), instead of layers/width/l0. */
  saeId?: string;
}

/** The registry entries a query picks, one per layer. */
export function pickReleaseSaes(q: ReleaseQuery): { release: SaeRelease; picks: SaeReleaseEntry[]; notes: string[] } {
  const release = getRelease(q.release);
  const notes: string[] = [];
  if (q.saeId) {
    const e = release.saes.find((s) => s.id === q.saeId);
    if (!e) throw new Error(`no SAE "${q.saeId}" in release ${release.id} (e.g. ${release.saes.slice(0, 3).map((s) => s.id).join(', ')})`);
    return { release, picks: [e], notes };
  }
  const widths = [...new Set(release.saes.map((s) => s.width).filter((w): w is string => !!w))];
  let width = q.width?.replace(/^width_/, '');
  if (width === undefined && widths.length > 1) throw new Error(`release ${release.id} has several widths (${widths.join(', ')}): choose one`);
  width ??= widths[0];
  if (width !== undefined && !widths.includes(width)) throw new Error(`release ${release.id} has no width ${width} (has ${widths.join(', ')})`);
  const layers = q.layers ?? [...new Set(release.saes.filter((s) => s.width === (width ?? null)).map((s) => s.layer))].sort((a, b) => a - b);
  const picks: SaeReleaseEntry[] = [];
  for (const layer of layers) {
    const cands = release.saes.filter((s) => s.layer === layer && (width === undefined || s.width === width));
    if (!cands.length) throw new Error(`release ${release.id} has no SAE for layer ${layer}${width ? ` at width ${width}` : ''} (layers: ${[...new Set(release.saes.map((s) => s.layer))].join(', ')})`);
    let pick: SaeReleaseEntry | undefined;
    if (q.l0 !== undefined) {
      pick = cands.find((s) => s.l0 === q.l0);
      if (!pick) throw new Error(`release ${release.id} layer ${layer} width ${width}: no L0 ${q.l0} (has ${cands.map((s) => s.l0).join(', ')})`);
    } else if (cands.length === 1) pick = cands[0];
    else {
      pick = cands.find((s) => s.canonical);
      if (!pick) {
        const t = q.targetL0 ?? 100;
        pick = cands.reduce((a, b) => (Math.abs((b.l0 ?? 0) - t) < Math.abs((a.l0 ?? 0) - t) ? b : a));
        notes.push(`layer ${layer}: no canonical pick known, took L0 ${pick.l0} (closest to ${t})`);
      } else notes.push(`layer ${layer}: canonical L0 ${pick.l0} (of ${cands.map((s) => s.l0).join(', ')})`);
    }
    picks.push(pick!);
  }
  return { release, picks, notes };
}

/** The files one registry SAE needs, relative to the repo. */
export function releaseFiles(release: SaeRelease, e: SaeReleaseEntry): string[] {
  if (release.format === 'gemmascope') return [`${e.path}/params.npz`];
  if (release.format === 'llamascope') return [`${e.path}/hyperparams.json`, `${e.path}/checkpoints/final.safetensors`];
  return [`${e.path}/cfg.json`, `${e.path}/sae_weights.safetensors`];
}

export interface LocatedSae {
  entry: SaeReleaseEntry;
  /** The SAE's folder in the local cache, or null when not downloaded. */
  path: string | null;
  /** Why it was not found (missing file, incomplete download). */
  problem: string | null;
}

export interface LocatedRelease {
  release: SaeRelease;
  cacheDir: string;
  repoRoot: string;
  /** Snapshot commit found (null: repo not in the cache). */
  commit: string | null;
  saes: LocatedSae[];
  /** Everything present. */
  complete: boolean;
  /** The command that downloads exactly the missing files. */
  download: string | null;
  notes: string[];
}

/** Shell-quote one argument for the download hint. */
function q(s: string): string {
  return /^[\w./@=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Where the picked SAEs of a release are in the HF cache, and what to download for the rest. */
export function locateRelease(query: ReleaseQuery, opts: { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}): LocatedRelease {
  const { release, picks, notes } = pickReleaseSaes(query);
  const cacheDir = opts.cacheDir ?? hfHubCacheDir(opts.env);
  const repoRoot = path.join(cacheDir, hfRepoFolderName(release.repoId));
  let commit: string | null = null;
  let snap: string | null = null;
  let rootProblem: string | null = null;
  if (fs.existsSync(repoRoot)) {
    try {
      const loc = resolveHfPath(repoRoot);
      commit = loc.commit;
      snap = loc.path;
      notes.push(...loc.notes);
    } catch (e) {
      rootProblem = (e as Error).message;
    }
  } else rootProblem = `${release.repoId} is not in the Hugging Face cache ${cacheDir}`;
  const saes: LocatedSae[] = picks.map((entry) => {
    if (!snap) return { entry, path: null, problem: rootProblem };
    try {
      const loc = resolveHfPath(snap, { sub: entry.path, require: releaseFiles(release, entry).map((f) => path.relative(entry.path, f)) });
      return { entry, path: loc.path, problem: null };
    } catch (e) {
      return { entry, path: null, problem: (e as Error).message };
    }
  });
  const missing = saes.filter((s) => !s.path);
  const download = missing.length
    ? `huggingface-cli download ${q(release.repoId)} ${missing.flatMap((s) => releaseFiles(release, s.entry)).map((f) => `--include ${q(f)}`).join(' ')}`
    : null;
  return { release, cacheDir, repoRoot, commit, saes, complete: !missing.length, download, notes };
}

/** LoadSaeOptions SAELens's from_pretrained applies for a registry entry (layer, hook, factor, Neuronpedia id). */
export function registryLoadOptions(release: SaeRelease, e: SaeReleaseEntry): LoadSaeOptions {
  return {
    layer: e.layer,
    hookPoint: e.hook,
    ...(e.normScalingFactor ? { normScalingFactor: e.normScalingFactor } : {}),
    neuronpediaId: e.neuronpedia,
    expectDModel: release.dIn,
  };
}

/**
 * The registry entry for a file found inside a release repo (e.g. a Gemma Scope params.npz opened by
 * path): matched by repo id and the path below the snapshot.
 */
export function registryEntryFor(repoId: string, subpath: string): { release: SaeRelease; entry: SaeReleaseEntry } | null {
  const sub = subpath.replace(/\/(params\.npz|cfg\.json|sae_weights\.safetensors|hyperparams\.json|checkpoints(\/final\.safetensors)?)$/, '');
  // prefer the canonical release (its ids are the bare Neuronpedia ones)
  const rels = saeRegistry().releases.filter((r) => r.repoId === repoId).sort((a, b) => Number(b.id.endsWith('-canonical')) - Number(a.id.endsWith('-canonical')));
  for (const release of rels) {
    const entry = release.saes.find((s) => s.path === sub);
    if (entry) return { release, entry };
  }
  return null;
}

export interface ReleaseSummary {
  id: string;
  title: string;
  repoId: string;
  format: SaeRelease['format'];
  model: string;
  chatModels: string[];
  neuronpediaModel: string | null;
  layers: number[];
  widths: string[];
  /** Per width, the L0 choices of each layer. */
  l0s: Record<string, Record<number, number[]>>;
  canonical: boolean;
}

/** What a chooser shows of a release (layers, widths, L0 choices). */
export function releaseSummary(r: SaeRelease): ReleaseSummary {
  const l0s: Record<string, Record<number, number[]>> = {};
  for (const s of r.saes) {
    const w = s.width ?? '-';
    ((l0s[w] ??= {})[s.layer] ??= []).push(s.l0 ?? NaN);
  }
  return {
    id: r.id,
    title: r.title,
    repoId: r.repoId,
    format: r.format,
    model: r.model,
    chatModels: r.chatModels,
    neuronpediaModel: r.neuronpediaModel,
    layers: [...new Set(r.saes.map((s) => s.layer))].sort((a, b) => a - b),
    widths: [...new Set(r.saes.map((s) => s.width).filter((w): w is string => !!w))],
    l0s,
    canonical: r.id.endsWith('-canonical'),
  };
}
