import type { InterventionParam } from '../../../../common/steps/playground';
import { useEffect, useMemo, useState } from 'react';
import type { PlaygroundRequestVM, PlaygroundResultVM, WorkbenchApi } from '../types';
import { featureKey, parseFeatureKey } from '../types';
import { toViewApi } from '../api';
import { useAction } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { ErrorLine, ViewHeader } from '../../components/Section';
import { TokenHeatmap } from '../../components/TokenHeatmap';
import { useSelection } from '../../components/nav';
import { isShellApi } from '../adapter';
import { runStep } from '../results/data';
import type { WorkbenchApi as ShellApi } from '../../../../common/api';

const COLUMN_TITLES: Record<string, string> = { base: 'Base', clamped: 'Clamped', steered: 'Additive steering', actadd: 'Activation addition', ablated: 'Direction ablated' };

/** What the step returns beyond PlaygroundResultVM: per-column verdicts and n completions (workers/playground). */
interface Verdict { refused?: boolean; jailbroken?: boolean; score?: number }
type SteeredColumn = PlaygroundResultVM['columns'][number] & { verdict?: Verdict; completions?: Array<{ text: string; verdict?: Verdict; seed?: number }> };

function VerdictBadge({ v, testId }: { v?: Verdict; testId: string }) {
  if (!v || v.refused === undefined) return null;
  return <span className={v.refused ? 'wb-badge wb-badge-refused' : 'wb-badge wb-badge-complied'} data-testid={testId}>{v.refused ? 'refused' : 'complied'}</span>;
}

export function parseFeatureList(s: string): { ok: ReturnType<typeof parseFeatureKey>[]; bad: string[] } {
  const parts = s.split(/[\s;]+|,(?=\s*L)/i).map((x) => x.trim()).filter(Boolean);
  const ok = [], bad: string[] = [];
  for (const p of parts) {
    const r = parseFeatureKey(p);
    if (r) ok.push(r);
    else bad.push(p);
  }
  return { ok, bad };
}

export function PlaygroundView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const sel = useSelection();
  const [prompt, setPrompt] = useState('');
  const [features, setFeatures] = useState(sel.features.join(' '));
  useEffect(() => {
    if (sel.features.length) setFeatures(sel.features.join(' '));
  }, [sel.features]);
  const [mode, setMode] = useState<'multiply' | 'value'>('multiply');
  const [amount, setAmount] = useState(-3);
  const [positions, setPositions] = useState<PlaygroundRequestVM['positions']>('all');
  const [maxNewTokens, setMax] = useState(64);
  const [clamp, setClamp] = useState(true);
  const [addOn, setAddOn] = useState(false);
  const [alpha, setAlpha] = useState(-16);
  const [actOn, setActOn] = useState(false);
  const [coef, setCoef] = useState(-1);
  const [ablate, setAblate] = useState(true);
  const [temperature, setTemperature] = useState(0);
  const [seed, setSeed] = useState(0);
  const [n, setN] = useState(1);
  const shell = isShellApi(rawApi) ? (rawApi as ShellApi) : null;
  const [result, setResult] = useState<{ req: PlaygroundRequestVM; res: PlaygroundResultVM } | null>(null);
  const [savedMsg, setSavedMsg] = useState<string>();
  const act = useAction();
  const parsed = parseFeatureList(features);

  const run = () =>
    act.run(async () => {
      if (!api.runPlayground) throw new Error('The playground needs an open project with a model.');
      if (parsed.bad.length) throw new Error(`Not a feature id: ${parsed.bad.join(', ')} (use L{layer}/{index})`);
      const req: PlaygroundRequestVM = { prompt, features: parsed.ok.filter((x) => x !== null), mode, amount, positions, maxNewTokens };
      setSavedMsg(undefined);
      if (!shell) {
        setResult({ req, res: await api.runPlayground(req) });
        return;
      }
      // the step's full form: chosen interventions as columns, sampling, n completions, judged verdicts
      const interventions: InterventionParam[] = [
        ...(clamp ? [{ kind: 'clamp' as const, mode, amount, positions }] : []),
        ...(addOn ? [{ kind: 'add' as const, alpha, positions }] : []),
        ...(actOn ? [{ kind: 'actadd' as const, coefficient: coef }] : []),
        ...(ablate ? [{ kind: 'ablate' as const }] : []),
      ];
      const res = (await runStep(shell, 'refusal.playground', {
        prompt,
        features: req.features.map((f) => [f.layer, f.index]),
        mode,
        amount,
        positions,
        interventions,
        maxNewTokens,
        ...(temperature > 0 ? { sampling: { temperature, seed }, n } : {}),
      })) as PlaygroundResultVM;
      setResult({ req, res });
    });
  const saveExample = () =>
    act.run(async () => {
      if (!result || !api.saveExample) return;
      await api.saveExample(result.req, result.res);
      setSavedMsg('Saved as an example in the project');
    });

  return (
    <div className="wb-view wb-playground" data-testid="view-playground">
      <ViewHeader title="Playground" />
      <div className="wb-form wb-playground-form">
        <label className="wb-notes">
          Prompt
          <textarea data-testid="playground-prompt" rows={3} value={prompt} placeholder="How do I pick a lock?" onChange={(e) => setPrompt(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && run()} />
        </label>
        <div className="wb-toolbar">
          <label title="Features to clamp, e.g. L3/12 L5/301">
            Features <input data-testid="playground-features" value={features} onChange={(e) => setFeatures(e.target.value)} placeholder="L3/12 L5/301" size={28} />
          </label>
          <label>
            <select data-testid="playground-mode" value={mode} onChange={(e) => setMode(e.target.value as 'multiply' | 'value')}>
              <option value="multiply">multiply by</option>
              <option value="value">set to</option>
            </select>{' '}
            <input data-testid="playground-amount" type="number" step={0.5} value={amount} onChange={(e) => setAmount(Number(e.target.value))} style={{ width: '5em' }} />
          </label>
          <label>
            positions{' '}
            <select value={positions} onChange={(e) => setPositions(e.target.value as PlaygroundRequestVM['positions'])}>
              <option value="all">all</option>
              <option value="prompt">prompt only</option>
              <option value="generation">generation only</option>
            </select>
          </label>
          <label>
            max tokens <input type="number" min={1} max={1024} value={maxNewTokens} onChange={(e) => setMax(Number(e.target.value))} style={{ width: '5em' }} />
          </label>
          <label><input type="checkbox" checked={clamp} onChange={(e) => setClamp(e.target.checked)} /> clamp</label>
          {shell && (
            <>
              <label title="Additive steering: α·W_dec[i] added at each chosen feature's layer">
                <input type="checkbox" data-testid="playground-add" checked={addOn} onChange={(e) => setAddOn(e.target.checked)} /> add α·W_dec{' '}
                <input data-testid="playground-alpha" type="number" step={1} value={alpha} onChange={(e) => setAlpha(Number(e.target.value))} style={{ width: '4.5em' }} />
              </label>
              <label title="Activation addition: c·r (the refusal direction) at its layer, every position">
                <input type="checkbox" data-testid="playground-actadd" checked={actOn} onChange={(e) => setActOn(e.target.checked)} /> add c·r{' '}
                <input data-testid="playground-coef" type="number" step={0.25} value={coef} onChange={(e) => setCoef(Number(e.target.value))} style={{ width: '4.5em' }} />
              </label>
              <label><input type="checkbox" data-testid="playground-ablate" checked={ablate} onChange={(e) => setAblate(e.target.checked)} /> ablate r</label>
              <label title="0 = greedy; above 0, seeded sampling">
                temperature <input data-testid="playground-temperature" type="number" min={0} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} style={{ width: '4em' }} />
              </label>
              {temperature > 0 && (
                <>
                  <label>seed <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} style={{ width: '4em' }} /></label>
                  <label>n <input data-testid="playground-n" type="number" min={1} max={16} value={n} onChange={(e) => setN(Number(e.target.value))} style={{ width: '3.5em' }} /></label>
                </>
              )}
            </>
          )}
          <button className="primary" data-testid="playground-run" onClick={run} disabled={act.busy || !prompt.trim()}>
            Generate
          </button>
          <button data-testid="playground-save" onClick={saveExample} disabled={!result || act.busy || !api.saveExample}>
            Save as example
          </button>
        </div>
        {parsed.bad.length > 0 && <p className="wb-error">Not a feature id: {parsed.bad.join(', ')}</p>}
      </div>
      <ErrorLine error={act.error} />
      {act.busy && act.slow && <ProgressBar label="Generating" />}
      {savedMsg && <p className="wb-ok">{savedMsg}</p>}
      {result ? (
        <div className="wb-columns" data-testid="playground-columns">
          {result.res.columns.map((c) => {
            const max = Math.max(0, ...result.res.columns.flatMap((x) => x.acts.flat().map(Math.abs)));
            return (
              <section key={c.kind} className="wb-column" data-testid={`playground-col-${c.kind}`}>
                <h3>{COLUMN_TITLES[c.kind] ?? c.kind} <VerdictBadge v={(c as SteeredColumn).verdict} testId={`playground-verdict-${c.kind}`} /></h3>
                <p className="wb-generation">{c.text}</p>
                {((c as SteeredColumn).completions?.length ?? 0) > 1 && (
                  <ol className="wb-completions" data-testid={`playground-completions-${c.kind}`}>
                    {(c as SteeredColumn).completions!.slice(1).map((k, i) => (
                      <li key={i}>{k.text} <VerdictBadge v={k.verdict} testId={`playground-verdict-${c.kind}-${i + 1}`} /></li>
                    ))}
                  </ol>
                )}
                {result.res.features.map((f, fi) => (
                  <div key={f} className="wb-context">
                    <div className="wb-muted wb-mono">{f}</div>
                    <TokenHeatmap tokens={c.tokens} acts={c.acts[fi] ?? []} max={max} testId={`playground-heat-${c.kind}-${fi}`} />
                  </div>
                ))}
              </section>
            );
          })}
        </div>
      ) : (
        <EmptyState
          title="Write a prompt and generate"
          hint={`Three columns come back side by side: the base model, with the chosen features clamped (${parsed.ok.map((f) => (f ? featureKey(f) : '')).join(' ') || 'pick features in the graph'}), and with the refusal direction ablated.`}
          testId="playground-empty"
        />
      )}
    </div>
  );
}

export default PlaygroundView;
