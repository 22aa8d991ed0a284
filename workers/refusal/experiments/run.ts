/**
 * The paper's experiments in one job (issue 16): every evaluation suite under every method and every
 * setting of the sweep (K* × clamp value × set kind), on one loaded model, reusing discovery's direction,
 * attribution and sets for its own suite, one attribution per other harmful suite, an in-job memo of
 * generations (a condition shared by two settings is generated once) and the project's verdict cache.
 * Output: the tidy table (common/results/experiments.ts) with Wilson intervals, McNemar tests for every
 * method pair on the same prompts, judge agreement, adversarial breakdowns and side effects.
 */
import { laIg } from '../attribution.js';
import { encodePrompts } from '../data.js';
import { refusalDirection } from '../direction.js';
import { conditionHooks, generateUnder, stopTokens, type Condition, type Generation } from '../generate.js';
import { cosinePool } from '../pool.js';
import { reviveAttribution, type DiscoveryContext, type DiscoveryParams, type MethodKey } from '../pipeline.js';
import { actDiff } from '../selection.js';
import { ceLoss, type CeItem } from '../sideeffects.js';
import { sha256Text, type RunDir } from '../runs.js';
import { checkAbort, type EncodedPrompt, type FeatureSets, type Lens, type StepCtx } from '../types.js';
import type { AttributionResult } from '../attribution.js';
import type { PromptItem } from '../../../common/suites/schema.js';
import type { EvaluateRole, SetKind, Sweep } from '../../../common/steps/experiments.js';
import { EXPERIMENT_CSV_COLUMNS, type AgreementRow, type ExperimentRow, type ExperimentTable, type McNemarRow, type SuffixAnalysis } from '../../../common/results/experiments.js';
import { bootstrapRatioCi, cohenKappa, mcnemar, wilson } from '../../eval/stats.js';
import { globalSetOf, methodCondition, methodSets, UNCLAMPED, type SuiteAttribution } from './sets.js';
import { scoreCapability, type CapabilityItem } from './capability.js';
import { parsePyStringList, suffixAnalysis } from './suffix.js';

/** A judge as the table needs it: an id, what its 1 means, and 0/1 verdicts. */
export interface NamedJudge {
  id: string;
  metric: 'refusal' | 'jailbreak';
  judge(items: Array<{ prompt: string; response: string }>): Promise<number[]>;
}

export interface EvalSuite {
  name: string;
  role: EvaluateRole;
  items: PromptItem[];
  /** Identity of the suite reference (the run's own harmful suite reuses discovery's attribution). */
  key: string;
  judges: NamedJudge[];
  groupBy: string[];
  scoring: 'loglik' | 'exact';
  suffixAnalysis: boolean;
  /** text role: the documents. */
  texts?: string[];
  /** capability role: the questions. */
  capability?: CapabilityItem[];
}

export interface ExperimentInput {
  P: DiscoveryParams;
  context: DiscoveryContext;
  /** Discovery's attribution of its own harmful suite, and that suite's key. */
  attribution: AttributionResult;
  mainKey: string;
  suites: EvalSuite[];
  sweep: Sweep;
  clampValue: number;
}

interface Setting {
  kStar: number;
  clampValue: number;
  setKind: SetKind;
}

function cartesian(P: DiscoveryParams, sweep: Sweep, c: number): Setting[] {
  const out: Setting[] = [];
  for (const kStar of sweep.kStar ?? [P.kStar]) for (const clampValue of sweep.clampValue ?? [c]) for (const setKind of sweep.setKind ?? [P.setKind]) out.push({ kStar, clampValue, setKind });
  return out;
}

/** The largest K* any setting of a sweep needs. */
export function sweepMaxKStar(P: { kStar: number }, sweep: Sweep | undefined): number {
  return Math.max(P.kStar, ...(sweep?.kStar ?? []));
}

function condKey(c: Condition): string {
  if (c.kind === 'none') return 'none';
  if (c.kind === 'ablate') return `ablate:${c.sites ?? ''}:${sha256Text(JSON.stringify(Array.from(c.direction))).slice(0, 16)}`;
  if (c.kind === 'actadd') return `actadd:${c.layer}:${c.coeff ?? 1}:${sha256Text(JSON.stringify(Array.from(c.direction))).slice(0, 16)}`;
  const sets = c.sets.kind === 'global' ? c.sets.sets[0] : c.sets.sets;
  return `clamp:${c.sets.kind}:${JSON.stringify(c.edit)}:${c.positions ?? 'all'}:${c.path ?? 'sparse'}:${sha256Text(JSON.stringify(sets)).slice(0, 16)}`;
}

const round = (x: number | null, d = 6) => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(d)));

export async function runExperiments(lens: Lens, inp: ExperimentInput, run: RunDir | null, ctx: StepCtx): Promise<ExperimentTable> {
  const t0 = performance.now();
  const { P, context } = inp;
  const settings = cartesian(P, inp.sweep, inp.clampValue);
  const ks = [...new Set(settings.map((s) => s.kStar))];
  const maxK = Math.max(...ks, P.kStar);
  const warnings: string[] = [];
  const rows: ExperimentRow[] = [];
  const mcn: McNemarRow[] = [];
  const agreement: AgreementRow[] = [];
  const suffix: SuffixAnalysis[] = [];
  const store = run?.batchStore<Generation[]>();
  const genMemo = new Map<string, Generation[]>();
  let conditions = 0;
  let reused = 0;
  const step = async <T>(name: string, fn: () => Promise<T>, revive?: (raw: unknown) => T): Promise<T> =>
    run ? (await run.step(name, fn, revive)).value : fn();

  const generate = async (suite: string, prompts: EncodedPrompt[], cond: Condition, maxNewTokens = P.maxNewTokens): Promise<Generation[]> => {
    checkAbort(ctx);
    const key = `${suite}|${maxNewTokens}|${condKey(cond)}`;
    const hit = genMemo.get(key);
    if (hit) {
      reused++;
      return hit;
    }
    conditions++;
    const g = await generateUnder(
      lens,
      { prompts, condition: cond, maxNewTokens, batchSize: P.genBatchSize, stopRule: P.stopRule, store, storeKey: `exp-${sha256Text(key).slice(0, 20)}` },
      ctx,
    );
    genMemo.set(key, g);
    return g;
  };

  // verdicts per (suite, judge, method, setting) for the paired tests and the agreement table
  type Block = { suite: EvalSuite; judge: string; group: string | null; setting: Setting | null; method: string; verdicts: number[] };
  const blocks: Block[] = [];

  const addRates = async (
    suite: EvalSuite,
    method: string,
    setting: Setting | null,
    edit: ExperimentRow['edit'],
    gens: Generation[],
    extra: { ce?: { ce: number; ci: [number, number] | null } } = {},
    settingForBlock: Setting | null = setting,
  ) => {
    const items = gens.map((g) => ({ prompt: g.prompt, response: g.text }));
    for (const j of suite.judges) {
      const v = await j.judge(items);
      const push = (group: string | null, idx: number[]) => {
        const k = idx.reduce((a, i) => a + (v[i] ? 1 : 0), 0);
        const n = idx.length;
        rows.push({
          suite: suite.name,
          role: suite.role,
          method,
          kStar: setting?.kStar ?? null,
          clampValue: setting?.clampValue ?? null,
          setKind: setting?.setKind ?? null,
          edit,
          judge: j.id,
          metric: j.metric,
          group,
          n,
          k,
          rate: n ? round(k / n) : null,
          ci: n ? (wilson(k, n).map((x) => round(x)!) as [number, number]) : null,
          ce: group === null && extra.ce ? round(extra.ce.ce) : null,
          ceCi: group === null && extra.ce?.ci ? (extra.ce.ci.map((x) => round(x)!) as [number, number]) : null,
        });
      };
      push(null, v.map((_, i) => i));
      for (const [g, idx] of groupsOf(suite)) push(g, idx);
      if (edit !== 'set') blocks.push({ suite, judge: j.id, group: null, setting: settingForBlock, method, verdicts: v });
    }
  };

  // per-suite attribution (the run's own harmful suite reuses discovery's)
  const mainSa: SuiteAttribution = { direction: context.direction, pool: context.pool, attr: inp.attribution, actdiffRanking: context.actdiffRanking };
  const attributionFor = async (suite: EvalSuite, prompts: EncodedPrompt[]): Promise<SuiteAttribution> => {
    if (suite.key === inp.mainKey) return mainSa;
    const tag = `exp-${sha256Text(suite.key).slice(0, 12)}`;
    const direction =
      P.evaluateDirection === 'own'
        ? Float32Array.from(
            await step(`${tag}-direction`, async () => Array.from((await refusalDirection(lens, { harmful: prompts, harmless: context.harmless }, ctx)).directions[context.layer])),
          )
        : context.direction;
    const pool = await step(`${tag}-pool`, () => cosinePool(lens, { direction, k: P.k, kStar: maxK }, ctx));
    const attr = await step(
      `${tag}-attribution`,
      () =>
        laIg(
          lens,
          {
            prompts,
            direction,
            steps: P.steps,
            alphaRule: P.alphaRule,
            errorTerm: P.errorTerm,
            ablationSites: P.ablationSites,
            jToken: P.jToken,
            path: P.attributionPath,
            batchSize: P.laBatchSize,
            pool: pool.pool,
            fullWidth: P.methods.includes('ap'),
            fullWidthTop: maxK,
            apPositions: P.positions,
          },
          ctx,
        ),
      reviveAttribution,
    );
    const actdiffRanking = P.methods.includes('actdiff')
      ? await step(`${tag}-actdiff`, async () =>
          (await actDiff(lens, { harmful: prompts, harmless: context.harmless, kStar: maxK, positions: P.positions }, ctx)).scores.map(({ layer, index }) => ({ layer, index })),
        )
      : null;
    return { direction, pool, attr, actdiffRanking };
  };

  // the run's own sets at each K* (harmless, adversarial, text and capability suites use their global sets)
  const mainSets = new Map<number, Record<string, FeatureSets>>();
  const mainSetsAt = async (k: number) => {
    if (!mainSets.has(k)) mainSets.set(k, await methodSets(lens, mainSa, k, P));
    return mainSets.get(k)!;
  };
  const clampMethods = P.methods.filter((m) => !UNCLAMPED.has(m));
  const fixedMethods = P.methods.filter((m) => UNCLAMPED.has(m));

  for (const suite of inp.suites) {
    checkAbort(ctx);
    const s0 = performance.now();
    if (suite.role === 'text') {
      rows.push(...(await textCe(lens, suite, { P, settings, mainSetsAt, direction: context.direction, clampMethods, fixedMethods }, ctx)));
      continue;
    }
    if (suite.role === 'capability') {
      rows.push(...(await capabilityRows(lens, suite, suite.capability ?? [], { P, settings, mainSetsAt, direction: context.direction, clampMethods, fixedMethods, generate }, ctx)));
      continue;
    }
    const allItems = suite.items;
    let items = suite.items;
    if (suite.role === 'adversarial' && items.some((i) => i.tags.includes('adversarial'))) items = items.filter((i) => i.tags.includes('adversarial'));
    const prompts = encodePrompts(lens, items.map((i) => i.instruction));
    suite.items = items;
    if (suite.role === 'harmful') {
      const sa = await attributionFor(suite, prompts);
      for (const m of fixedMethods) await addRates(suite, m, null, null, await generate(suite.name, prompts, methodCondition(m, { direction: sa.direction, edit: { mode: 'multiply', c: 1 }, P })));
      for (const k of ks) {
        const sets = suite.key === inp.mainKey ? await mainSetsAt(k) : await methodSets(lens, sa, k, P);
        for (const st of settings.filter((x) => x.kStar === k))
          for (const m of clampMethods) {
            const fs = st.setKind === 'global' ? globalSetOf(m, sets, k) : sets[m];
            await addRates(suite, m, st, 'multiply', await generate(suite.name, prompts, methodCondition(m, { sets: fs, direction: sa.direction, edit: { mode: 'multiply', c: st.clampValue }, P })));
          }
      }
    } else {
      // harmless and adversarial prompts are not the attribution's samples: every method clamps its global set
      const perSetting = dedupeSettings(settings);
      const ceOf = suite.role === 'harmless' && P.sideEffects ? await rolloutCe(lens, suite, prompts, generate, P) : null;
      for (const m of fixedMethods) {
        const cond = methodCondition(m, { direction: context.direction, edit: { mode: 'multiply', c: 1 }, P });
        await addRates(suite, m, null, null, await generate(suite.name, prompts, cond), { ce: ceOf ? await ceOf(cond) : undefined });
      }
      for (const st of perSetting)
        for (const m of clampMethods) {
          const sets = await mainSetsAt(st.kStar);
          const cond = methodCondition(m, { sets: globalSetOf(m, sets, st.kStar), direction: context.direction, edit: { mode: 'multiply', c: st.clampValue }, P });
          await addRates(suite, m, st, 'multiply', await generate(suite.name, prompts, cond), { ce: ceOf ? await ceOf(cond) : undefined });
        }
      // induced refusal: every method's global set *set* to each v, at every K* of the sweep
      if (suite.role === 'harmless')
        for (const v of P.induceValues)
          for (const k of ks)
            for (const m of clampMethods) {
              const sets = await mainSetsAt(k);
              const cond = methodCondition(m, { sets: globalSetOf(m, sets, k), direction: context.direction, edit: { mode: 'set', v }, P });
              await addRates(suite, m, { kStar: k, clampValue: v, setKind: 'global' }, 'set', await generate(suite.name, prompts, cond));
            }
      if (suite.suffixAnalysis || (suite.role === 'adversarial' && allItems.some((i) => i.meta?.suffix))) {
        const sets = await mainSetsAt(P.kStar);
        const r = await suffixAnalysis(lens, { suite: suite.name, items: allItems, refusal: globalSetOf('cossim_ap', sets, P.kStar).sets[0], harm: (sets.actdiff ?? sets.cossim).sets[0], judge: suite.judges[0], P }, ctx);
        suffix.push(r.analysis);
        warnings.push(...r.warnings);
      }
    }
    ctx.log(`experiments: ${suite.name} (${suite.role}, ${items.length} prompts) ${((performance.now() - s0) / 1000).toFixed(1)} s`);
  }

  // McNemar's exact test for every method pair judged on the same prompts (same suite, judge and setting;
  // base and AS, which no setting changes, join every setting's block)
  const byBlock = new Map<string, Block[]>();
  for (const b of blocks) {
    const key = JSON.stringify([b.suite.name, b.judge, b.group, b.setting]);
    if (!byBlock.has(key)) byBlock.set(key, []);
    byBlock.get(key)!.push(b);
  }
  for (const bs of byBlock.values()) {
    const { suite, judge, group, setting } = bs[0];
    if (!setting) continue;
    const fixed = blocks.filter((b) => b.suite === suite && b.judge === judge && b.setting === null);
    const all = [...fixed, ...bs];
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++) {
        const t = mcnemar(all[i].verdicts, all[j].verdicts);
        mcn.push({ suite: suite.name, role: suite.role, judge, group, kStar: setting.kStar, clampValue: setting.clampValue, setKind: setting.setKind, a: all[i].method, b: all[j].method, n: t.n, b10: t.b10, b01: t.b01, p: round(t.p, 8)! });
      }
  }
  // judges that saw the same generations: Cohen's κ and the confusion matrix
  const bySame = new Map<string, Block[]>();
  for (const b of blocks) {
    const key = JSON.stringify([b.suite.name, b.method, b.setting]);
    if (!bySame.has(key)) bySame.set(key, []);
    bySame.get(key)!.push(b);
  }
  for (const bs of bySame.values())
    for (let i = 0; i < bs.length; i++)
      for (let j = i + 1; j < bs.length; j++) {
        const a = cohenKappa(bs[i].verdicts, bs[j].verdicts);
        const st = bs[i].setting;
        agreement.push({ suite: bs[i].suite.name, role: bs[i].suite.role, method: bs[i].method, kStar: st?.kStar ?? null, clampValue: st?.clampValue ?? null, setKind: st?.setKind ?? null, judgeA: bs[i].judge, judgeB: bs[j].judge, n: a.n, agreement: round(a.agreement), kappa: round(a.kappa), confusion: a.confusion });
      }
  for (const s of inp.suites) if (s.items.length === 0 && !s.texts?.length && !s.capability?.length) warnings.push(`${s.name}: no prompts`);
  return {
    kind: 'refusal-workbench/experiment-table',
    schemaVersion: 1,
    layer: context.layer,
    kStar: P.kStar,
    clampValue: inp.clampValue,
    setKind: P.setKind,
    rows,
    mcnemar: mcn,
    agreement,
    suffix,
    warnings,
    generation: { conditions, reused },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Harmless / adversarial suites clamp global sets, so the set kind does not change them: one per (K*, c). */
function dedupeSettings(settings: Setting[]): Setting[] {
  const seen = new Set<string>();
  const out: Setting[] = [];
  for (const s of settings) {
    const key = `${s.kStar}/${s.clampValue}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...s, setKind: 'global' });
  }
  return out;
}

/** Breakdown groups of a suite: items by each tag that starts with one of the suite's groupBy prefixes. */
function groupsOf(suite: EvalSuite): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (!suite.groupBy.length) return out;
  const add = (g: string, i: number) => {
    if (!out.has(g)) out.set(g, []);
    if (!out.get(g)!.includes(i)) out.get(g)!.push(i);
  };
  suite.items.forEach((it, i) => {
    for (const t of it.tags) if (suite.groupBy.some((p) => !p.startsWith('meta:') && t.startsWith(p))) add(t, i);
    // 'meta:FIELD': a source column such as WildJailbreak's tactics (a list literal or comma-separated)
    for (const p of suite.groupBy.filter((x) => x.startsWith('meta:'))) {
      const field = p.slice(5);
      const v = it.meta?.[field];
      if (!v) continue;
      let vals: string[];
      try {
        vals = v.trim().startsWith('[') ? parsePyStringList(v) : v.split(',');
      } catch {
        vals = [v];
      }
      for (const x of vals.map((y) => y.trim()).filter(Boolean)) add(`${field}:${x}`, i);
    }
  });
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** CE of the base model's own rollouts (W8: over the label tokens), under a condition, with a bootstrap CI. */
async function rolloutCe(
  lens: Lens,
  suite: EvalSuite,
  prompts: EncodedPrompt[],
  generate: (suite: string, prompts: EncodedPrompt[], cond: Condition) => Promise<Generation[]>,
  P: DiscoveryParams,
): Promise<(cond: Condition) => Promise<{ ce: number; ci: [number, number] | null }>> {
  const base = await generate(suite.name, prompts, { kind: 'none' });
  const stops = new Set(stopTokens(lens, P.stopRule));
  const items: CeItem[] = prompts
    .map((p, i) => {
      const toks = base[i].tokens;
      const cut = toks.findIndex((t) => stops.has(t));
      return { context: p.ids, label: cut >= 0 ? toks.slice(0, cut + 1) : toks };
    })
    .filter((x) => x.label.length > 0);
  return (cond) => ceUnder(lens, items, cond, P);
}

async function ceUnder(lens: Lens, items: CeItem[], cond: Condition, P: DiscoveryParams): Promise<{ ce: number; ci: [number, number] | null }> {
  const r = await ceLoss(
    lens,
    { items, batchSize: P.genBatchSize, normalise: P.ceNormalise, hooks: (rows) => conditionHooks(lens, cond, Array.from({ length: rows }, (_, i) => i)) },
    { progress: () => {}, log: () => {}, signal: new AbortController().signal },
  );
  const ci = r.perItem.length > 1 ? bootstrapRatioCi(r.perItem.map((x) => x.sum), r.perItem.map((x) => (P.ceNormalise === 'compat' ? x.slots : x.tokens)), { reps: P.bootstrapReps, seed: P.seed }) : null;
  return { ce: r.ce, ci };
}

interface SideCtx {
  P: DiscoveryParams;
  settings: Setting[];
  mainSetsAt: (k: number) => Promise<Record<string, FeatureSets>>;
  direction: Float32Array;
  clampMethods: MethodKey[];
  fixedMethods: MethodKey[];
}

/** Each method's conditions for a side-effect suite: the fixed methods once, every clamp method per (K*, c). */
async function sideConditions(sc: SideCtx): Promise<Array<{ method: MethodKey; setting: Setting | null; cond: Condition }>> {
  const out: Array<{ method: MethodKey; setting: Setting | null; cond: Condition }> = [];
  for (const m of sc.fixedMethods) out.push({ method: m, setting: null, cond: methodCondition(m, { direction: sc.direction, edit: { mode: 'multiply', c: 1 }, P: sc.P }) });
  for (const st of dedupeSettings(sc.settings))
    for (const m of sc.clampMethods) {
      const sets = await sc.mainSetsAt(st.kStar);
      out.push({ method: m, setting: st, cond: methodCondition(m, { sets: globalSetOf(m, sets, st.kStar), direction: sc.direction, edit: { mode: 'multiply', c: st.clampValue }, P: sc.P }) });
    }
  return out;
}

function sideRow(suite: EvalSuite, method: string, st: Setting | null, metric: ExperimentRow['metric'], f: Partial<ExperimentRow>): ExperimentRow {
  return {
    suite: suite.name,
    role: suite.role,
    method,
    kStar: st?.kStar ?? null,
    clampValue: st?.clampValue ?? null,
    setKind: st?.setKind ?? null,
    edit: st ? 'multiply' : null,
    judge: null,
    metric,
    group: null,
    n: 0,
    k: null,
    rate: null,
    ci: null,
    ce: null,
    ceCi: null,
    ...f,
  };
}

/** CE on plain text (W9: the same documents for every condition, each with one BOS), per method and clamp. */
async function textCe(lens: Lens, suite: EvalSuite, sc: SideCtx, ctx: StepCtx): Promise<ExperimentRow[]> {
  if (!lens.codec.encodeText) throw new Error(`${suite.name}: text CE needs a tokenizer that encodes plain text`);
  const bos = lens.codec.bosTokenId;
  const maxTokens = 256;
  const items: CeItem[] = (suite.texts ?? [])
    .map((t) => lens.codec.encodeText!(t).slice(0, maxTokens))
    .filter((ids) => ids.length > 1)
    .map((ids) => (bos !== null ? { context: [bos], label: ids } : { context: ids.slice(0, 1), label: ids.slice(1) }));
  if (!items.length) throw new Error(`${suite.name}: no text to score`);
  const out: ExperimentRow[] = [];
  for (const { method, setting, cond } of await sideConditions(sc)) {
    checkAbort(ctx);
    const r = await ceUnder(lens, items, cond, sc.P);
    out.push(sideRow(suite, method, setting, 'ce', { n: items.length, ce: round(r.ce), ceCi: r.ci ? (r.ci.map((x) => round(x)!) as [number, number]) : null }));
  }
  return out;
}

async function capabilityRows(
  lens: Lens,
  suite: EvalSuite,
  items: CapabilityItem[],
  sc: SideCtx & { generate: (suite: string, prompts: EncodedPrompt[], cond: Condition, maxNewTokens?: number) => Promise<Generation[]> },
  ctx: StepCtx,
): Promise<ExperimentRow[]> {
  const out: ExperimentRow[] = [];
  for (const { method, setting, cond } of await sideConditions(sc)) {
    checkAbort(ctx);
    const correct = await scoreCapability(lens, { items, cond, scoring: suite.scoring, batchSize: sc.P.genBatchSize, generate: (p, c, n) => sc.generate(suite.name, p, c, n) }, ctx);
    const k = correct.reduce((a, b) => a + b, 0);
    const n = correct.length;
    out.push(sideRow(suite, method, setting, 'accuracy', { judge: `${suite.scoring}-answer`, n, k, rate: n ? round(k / n) : null, ci: n ? (wilson(k, n).map((x) => round(x)!) as [number, number]) : null }));
  }
  return out;
}

/** experiments.csv: one line per table row, the columns of EXPERIMENT_CSV_COLUMNS. */
export function tableCsv(t: ExperimentTable): string {
  const esc = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = EXPERIMENT_CSV_COLUMNS;
  const lines = t.rows.map((r) =>
    [r.suite, r.role, r.method, r.kStar, r.clampValue, r.setKind, r.edit, r.judge, r.metric, r.group, r.n, r.k, r.rate, r.ci?.[0], r.ci?.[1], r.ce, r.ceCi?.[0], r.ceCi?.[1]].map(esc).join(','),
  );
  return [head.join(','), ...lines].join('\n') + '\n';
}
