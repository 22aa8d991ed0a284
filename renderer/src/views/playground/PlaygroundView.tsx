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

const COLUMN_TITLES: Record<string, string> = { base: 'Base', clamped: 'Clamped', ablated: 'Direction ablated' };

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
      setResult({ req, res: await api.runPlayground(req) });
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
                <h3>{COLUMN_TITLES[c.kind] ?? c.kind}</h3>
                <p className="wb-generation">{c.text}</p>
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
