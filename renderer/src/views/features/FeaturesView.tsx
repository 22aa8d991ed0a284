import { useEffect, useMemo, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { FeatureAnnotationVM, FeatureDetailVM, GraphVM, WorkbenchApi } from '../types';
import { parseFeatureKey } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { TokenHeatmap } from '../../components/TokenHeatmap';
import { useSlashFocus } from '../../components/keyboard';
import { navigate, selectFeature, setFeatureSet, useSelection } from '../../components/nav';
import { fmt } from '../../export/format';
import { annotationMatches, checkExplanationsMatch, expectedSources, mergeExplanation, neuronpediaUrl, parseNeuronpediaExport } from './neuronpedia';
import { DashboardCards } from './DashboardCards';
import type { WorkbenchApi as ShellApi } from '../../../../common/api';
import { isShellApi } from '../adapter';

type Ann = Record<string, FeatureAnnotationVM>;

export function FeaturesView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const sel = useSelection();
  const annQ = useAsync<Ann>(() => api.getAnnotations?.() ?? Promise.resolve({}), [api]);
  const graphQ = useAsync<GraphVM | null>(() => api.getGraph?.().catch(() => null) ?? Promise.resolve(null), [api]);
  const [ann, setAnn] = useState<Ann>({});
  useEffect(() => {
    if (annQ.data) setAnn(annQ.data);
  }, [annQ.data]);
  const [query, setQuery] = useState('');
  const searchRef = useRef<HTMLInputElement>(null);
  useSlashFocus(searchRef);
  const [importMsg, setImportMsg] = useState<string>();
  const imp = useAction();

  // every feature we know: graph nodes + annotated ones
  const keys = useMemo(() => {
    const s = new Set<string>([...(graphQ.data?.nodes.map((n) => n.id) ?? []), ...Object.keys(ann)]);
    return [...s].sort((a, b) => {
      const pa = parseFeatureKey(a)!, pb = parseFeatureKey(b)!;
      return pa.layer - pb.layer || pa.index - pb.index;
    });
  }, [graphQ.data, ann]);
  const listed = keys.filter((k) => annotationMatches(k, ann[k], query));
  const current = sel.feature && parseFeatureKey(sel.feature) ? sel.feature : undefined;

  const onImport = (file: File) =>
    imp.run(async () => {
      const text = await file.text();
      const list = parseNeuronpediaExport(text);
      // refuse an export of another model, source set or width (a 16k export must not label 65k features)
      checkExplanationsMatch(list, expectedSources(graphQ.data?.nodes.map((n) => n.neuronpediaId) ?? []));
      // start from the stored annotations, so an import never races the first load
      const next = { ...ann, ...((await api.getAnnotations?.()) ?? {}) };
      let n = 0;
      for (const e of list) {
        const merged = mergeExplanation(next[e.key], e.description);
        if (merged !== next[e.key]) {
          next[e.key] = merged;
          await api.saveAnnotation?.(e.key, merged);
          n++;
        }
      }
      setAnn(next);
      setImportMsg(`Imported ${n} of ${list.length} explanations from ${file.name}`);
    });

  return (
    <div className="wb-view wb-features" data-testid="view-features">
      <ViewHeader title="Features">
        <label className="wb-file-button" title="A Neuronpedia explanations export (JSON or JSONL)">
          Import Neuronpedia explanations
          <input type="file" accept=".json,.jsonl" data-testid="feature-import-neuronpedia" onChange={(e) => e.target.files?.[0] && onImport(e.target.files[0])} />
        </label>
      </ViewHeader>
      <ErrorLine error={imp.error} />
      {importMsg && <p className="wb-muted" data-testid="feature-import-result">{importMsg}</p>}
      <div className="wb-split">
        <aside className="wb-list-pane">
          <input ref={searchRef} type="search" placeholder="Search labels, notes, tags  ( / )" data-testid="feature-search" value={query} onChange={(e) => setQuery(e.target.value)} />
          {keys.length === 0 ? (
            <p className="wb-muted">No features yet — run discovery, then open a node from the graph.</p>
          ) : (
            <ul className="wb-feature-list" data-testid="feature-list">
              {listed.map((k) => (
                <li key={k} className={k === current ? 'active' : ''}>
                  <button className="wb-link" data-testid={`feature-item-${k}`} onClick={() => selectFeature(k)}>
                    <span className="wb-mono">{k}</span> {ann[k]?.label ? <span>{ann[k].label}</span> : null}
                  </button>
                  {ann[k]?.tags?.length ? <span className="wb-tags">{ann[k].tags.join(' · ')}</span> : null}
                </li>
              ))}
              {listed.length === 0 && <li className="wb-muted">Nothing matches “{query}”.</li>}
            </ul>
          )}
        </aside>
        <main className="wb-detail-pane">
          {current ? (
            <FeaturePage
              key={current}
              api={api}
              shell={isShellApi(rawApi) ? (rawApi as ShellApi) : undefined}
              featureKey={current}
              annotation={ann[current]}
              onSaved={(a) => setAnn((prev) => ({ ...prev, [current]: a }))}
            />
          ) : (
            <EmptyState title="Pick a feature" hint="Choose one on the left, search with /, or click a node in the causal graph (g)." testId="feature-empty">
              <button onClick={() => navigate('graph')}>Open the graph</button>
            </EmptyState>
          )}
        </main>
      </div>
    </div>
  );
}

export function FeaturePage({
  api,
  shell,
  featureKey,
  annotation,
  onSaved,
}: {
  api: ReturnType<typeof toViewApi>;
  /** The shell API, for the dashboard scan (absent in previews over a plain ViewApi). */
  shell?: ShellApi;
  featureKey: string;
  annotation?: FeatureAnnotationVM;
  onSaved: (a: FeatureAnnotationVM) => void;
}) {
  const ref = parseFeatureKey(featureKey)!;
  const q = useAsync<FeatureDetailVM | null>(() => api.getFeature?.(ref) ?? Promise.resolve(null), [api, featureKey]);
  const [label, setLabel] = useState(annotation?.label ?? '');
  const [notes, setNotes] = useState(annotation?.notes ?? '');
  const [tags, setTags] = useState((annotation?.tags ?? []).join(', '));
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    setLabel(annotation?.label ?? '');
    setNotes(annotation?.notes ?? '');
    setTags((annotation?.tags ?? []).join(', '));
  }, [annotation]);
  const save = useAction();
  const dirty = label !== (annotation?.label ?? '') || notes !== (annotation?.notes ?? '') || tags !== (annotation?.tags ?? []).join(', ');
  const doSave = () =>
    save.run(async () => {
      const a: FeatureAnnotationVM = { label: label.trim(), notes, tags: tags.split(',').map((t) => t.trim()).filter(Boolean) };
      if (!api.saveAnnotation) throw new Error('Saving labels needs an open project.');
      await api.saveAnnotation(featureKey, a);
      onSaved(a);
      setSaved('Saved');
    });

  const d = q.data;
  return (
    <article className="wb-feature-page" data-testid="feature-page">
      <header className="wb-feature-header">
        <h2 className="wb-mono" data-testid="feature-id">
          {featureKey}
        </h2>
        <input
          className="wb-label-input"
          data-testid="feature-label-input"
          aria-label="Label"
          placeholder="Label this feature…"
          value={label}
          onChange={(e) => {
            setLabel(e.target.value);
            setSaved(undefined);
          }}
          onKeyDown={(e) => e.key === 'Enter' && doSave()}
        />
        <button data-testid="feature-save" onClick={doSave} disabled={save.busy || !dirty}>
          Save
        </button>
        {saved && !dirty && <span className="wb-ok" data-testid="feature-saved">{saved}</span>}
        {d?.neuronpediaId && (
          <a href={neuronpediaUrl(d.neuronpediaId)} target="_blank" rel="noreferrer noopener" data-testid="feature-neuronpedia">
            Neuronpedia ↗
          </a>
        )}
        <button onClick={() => { setFeatureSet([featureKey]); navigate('playground', { f: featureKey }); }}>Clamp in playground</button>
      </header>
      <div className="wb-feature-meta">
        <label>
          Tags{' '}
          <input data-testid="feature-tags-input" placeholder="comma, separated" value={tags} onChange={(e) => { setTags(e.target.value); setSaved(undefined); }} />
        </label>
        <label className="wb-notes">
          Notes
          <textarea data-testid="feature-notes-input" rows={3} value={notes} onChange={(e) => { setNotes(e.target.value); setSaved(undefined); }} />
        </label>
      </div>
      {shell && <DashboardCards api={shell} featureKey={featureKey} />}
      <ErrorLine error={save.error ?? q.error} />
      {q.loading && q.slow && <ProgressBar label="Loading feature" />}
      {!q.loading && !d && <EmptyState title="No stored results for this feature" hint="Run discovery with this feature's layer to get its cosine, contexts and logit lens." />}
      {d && (
        <div className="wb-cards">
          <Card title="Cosine with the refusal direction" testId="feature-cosine">
            <p className="wb-big-number">{d.cosine === undefined ? '—' : fmt(d.cosine, 3)}</p>
          </Card>
          <Card title="Attribution across suites" testId="feature-attribution">
            {d.attributionBySuite.length ? (
              <BarChart width={320} height={160} data={d.attributionBySuite} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="suite" fontSize={10} />
                <YAxis fontSize={10} />
                <Tooltip />
                <Bar dataKey="value" fill="#1c7ed6" isAnimationActive={false} />
              </BarChart>
            ) : (
              <p className="wb-muted">No attribution stored.</p>
            )}
          </Card>
          <Card title="Activation histogram" testId="feature-histogram">
            {d.histogram.counts.length ? (
              <BarChart
                width={320}
                height={160}
                data={d.histogram.counts.map((c, i) => ({ bin: fmt(d.histogram.edges[i] ?? i, 2), count: c }))}
                margin={{ top: 8, right: 8, bottom: 8, left: 8 }}
                barCategoryGap={1}
              >
                <XAxis dataKey="bin" fontSize={10} />
                <YAxis fontSize={10} />
                <Tooltip />
                <Bar dataKey="count" fill="#e8590c" isAnimationActive={false} />
              </BarChart>
            ) : (
              <p className="wb-muted">No activations stored.</p>
            )}
          </Card>
          <Card title="Logit lens (decoder row · unembedding)" testId="feature-logit-lens">
            <div className="wb-two-col">
              <div>
                <h4>promoted</h4>
                <ol className="wb-token-list">
                  {d.logitLens.promoted.map((t, i) => (
                    <li key={i}>
                      <code>{JSON.stringify(t.token)}</code> <span className="wb-num">{fmt(t.value, 3)}</span>
                    </li>
                  ))}
                </ol>
              </div>
              <div>
                <h4>suppressed</h4>
                <ol className="wb-token-list">
                  {d.logitLens.suppressed.map((t, i) => (
                    <li key={i}>
                      <code>{JSON.stringify(t.token)}</code> <span className="wb-num">{fmt(t.value, 3)}</span>
                    </li>
                  ))}
                </ol>
              </div>
            </div>
          </Card>
          <Card title="Top-activating contexts" testId="feature-contexts">
            {d.contexts.length === 0 && <p className="wb-muted">No contexts stored.</p>}
            {d.contexts.map((c, i) => {
              const max = Math.max(0, ...d.contexts.flatMap((x) => x.acts.map(Math.abs)));
              return (
                <div key={i} className="wb-context">
                  <div className="wb-muted">
                    {c.suite ?? ''} · max {fmt(Math.max(...c.acts), 3)}
                  </div>
                  <TokenHeatmap tokens={c.tokens} acts={c.acts} max={max} testId={`feature-context-${i}`} />
                </div>
              );
            })}
          </Card>
        </div>
      )}
    </article>
  );
}

export default FeaturesView;
