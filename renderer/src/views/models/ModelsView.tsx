import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { SaeReleaseLocation } from '../../../../common/api';
import type { ModelVM, PreflightVM, WorkbenchApi } from '../types';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { fmt } from '../../export/format';

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b) || b <= 0) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return `${fmt(b, b < 10 ? 2 : 1)} ${u[i]}`;
}

export function fmtCount(n: number): string {
  if (n >= 1e9) return `${fmt(n / 1e9, 2)} B`;
  if (n >= 1e6) return `${fmt(n / 1e6, 1)} M`;
  if (n >= 1e3) return `${fmt(n / 1e3, 1)} k`;
  return String(n);
}

export function ModelsView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const [folder, setFolder] = useState('');
  const [saeFolders, setSaeFolders] = useState('');
  const modelQ = useAsync<ModelVM | null>(() => api.inspectModel?.() ?? Promise.resolve(null), [api]);
  const preQ = useAsync<PreflightVM | null>(() => api.saePreflight?.() ?? Promise.resolve(null), [api]);
  const [model, setModel] = useState<ModelVM | null | undefined>(undefined);
  const [pre, setPre] = useState<PreflightVM | null | undefined>(undefined);
  const act = useAction();
  const m = model === undefined ? modelQ.data : model;
  const p = pre === undefined ? preQ.data : pre;

  const chooseModel = () =>
    act.run(async () => {
      const f = (await api.chooseFolder?.('model')) || folder.trim();
      if (!f) throw new Error('Type the path of a Hugging Face model folder (config.json, tokenizer.json, *.safetensors).');
      setFolder(f);
      setModel(await (api.inspectModel?.(f) ?? Promise.resolve(null)));
    });
  const checkSaes = () =>
    act.run(async () => {
      const fs = saeFolders.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
      setPre(await (api.saePreflight?.(fs.length ? fs : undefined) ?? Promise.resolve(null)));
    });

  const relQ = useAsync(() => api.saeReleases?.() ?? Promise.resolve(null), [api]);
  const [relId, setRelId] = useState('');
  const [relWidth, setRelWidth] = useState('');
  const [located, setLocated] = useState<SaeReleaseLocation | null>(null);
  const rel = relQ.data?.find((r) => r.id === relId) ?? null;
  const locate = () =>
    act.run(async () => {
      if (!rel || !api.locateRelease) throw new Error('Choose a release first.');
      const width = relWidth || (rel.widths.length === 1 ? rel.widths[0] : undefined);
      if (rel.widths.length > 1 && !width) throw new Error(`Choose a width (${rel.widths.join(', ')}).`);
      const loc = await api.locateRelease({ release: rel.id, width });
      setLocated(loc);
      const found = loc.saes.filter((x) => x.path).map((x) => x.path!);
      if (found.length) setSaeFolders(found.join('\n'));
    });
  const adoptModel = (path: string) =>
    act.run(async () => {
      setFolder(path);
      setModel(await (api.inspectModel?.(path) ?? Promise.resolve(null)));
    });

  const chart = (p?.saes ?? []).map((s) => ({ layer: `L${s.layer}`, gib: (p!.modelBytes + s.bytes) / 2 ** 30, fits: s.fits, bytes: s.bytes }));
  const budget = p ? p.budgetBytes / 2 ** 30 : 0;

  return (
    <div className="wb-view wb-models" data-testid="view-models">
      <ViewHeader title="Models & SAEs" />
      <ErrorLine error={act.error ?? modelQ.error ?? preQ.error ?? relQ.error} />
      {(act.slow || modelQ.slow || preQ.slow) && <ProgressBar label="Inspecting" />}
      <div className="wb-cards">
        <Card title="Model" testId="model-card">
          <div className="wb-toolbar">
            <input data-testid="model-folder-input" placeholder="/path/to/hf-model-folder" value={folder} onChange={(e) => setFolder(e.target.value)} size={40} />
            <button data-testid="model-open" onClick={chooseModel} disabled={act.busy}>
              Open folder
            </button>
          </div>
          {m ? (
            <dl className="wb-dl" data-testid="model-info">
              <dt>folder</dt>
              <dd className="wb-mono">{m.path}</dd>
              <dt>architecture</dt>
              <dd>{m.architecture}</dd>
              <dt>dtype</dt>
              <dd>{m.dtype}</dd>
              <dt>parameters</dt>
              <dd className="wb-num">{fmtCount(m.params)}</dd>
              <dt>layers · d_model</dt>
              <dd className="wb-num">
                {m.layers} · {m.dModel}
              </dd>
              {m.vocab ? (
                <>
                  <dt>vocabulary</dt>
                  <dd className="wb-num">{fmtCount(m.vocab)}</dd>
                </>
              ) : null}
              <dt>memory (weights)</dt>
              <dd className="wb-num" data-testid="model-memory">
                {fmtBytes(m.memoryBytes)}
              </dd>
            </dl>
          ) : (
            !modelQ.loading && (
              <EmptyState title="No model yet — open a Hugging Face folder, or use the demo" hint="Gemma-2 and Llama-3.x chat models in safetensors; the demo project bundles a tiny chat model." testId="model-empty" />
            )
          )}
        </Card>
        <Card title="SAE release (Hugging Face cache)" testId="release-card">
          {relQ.data?.length ? (
            <>
              <div className="wb-toolbar">
                <select data-testid="release-select" value={relId} onChange={(e) => { setRelId(e.target.value); setRelWidth(''); setLocated(null); }}>
                  <option value="">Choose a release…</option>
                  {relQ.data.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.title}
                    </option>
                  ))}
                </select>
                {rel && rel.widths.length > 1 && (
                  <select data-testid="release-width" value={relWidth} onChange={(e) => setRelWidth(e.target.value)}>
                    <option value="">width…</option>
                    {rel.widths.map((w) => (
                      <option key={w} value={w}>
                        {w}
                      </option>
                    ))}
                  </select>
                )}
                <button data-testid="release-locate" onClick={locate} disabled={act.busy || !rel}>
                  Find in cache
                </button>
              </div>
              {rel && (
                <p className="wb-muted" data-testid="release-info">
                  {rel.repoId} · {rel.format} · layers {rel.layers[0]}–{rel.layers[rel.layers.length - 1]} · model {rel.model}
                  {rel.chatModels.length ? ` (chat: ${rel.chatModels.join(', ')})` : ''}
                  {rel.canonical ? ' · canonical L0 per layer' : ' · closest-to-canonical L0 per layer'}
                </p>
              )}
              {located && (
                <div data-testid="release-located">
                  <p>
                    {located.complete ? `All ${located.saes.length} SAEs found` : `${located.saes.filter((x) => x.path).length} of ${located.saes.length} SAEs found`} in{' '}
                    <span className="wb-mono">{located.cacheDir}</span>
                    {located.commit ? ` @ ${located.commit.slice(0, 12)}` : ''}
                  </p>
                  {located.download && (
                    <pre className="wb-mono" data-testid="release-download">
                      {located.download}
                    </pre>
                  )}
                  <table className="wb-table" data-testid="release-table">
                    <thead>
                      <tr>
                        <th>layer</th>
                        <th>SAE</th>
                        <th>Neuronpedia</th>
                        <th>file</th>
                      </tr>
                    </thead>
                    <tbody>
                      {located.saes.map((x) => (
                        <tr key={x.id}>
                          <td className="wb-num">{x.layer}</td>
                          <td className="wb-mono">{x.id}</td>
                          <td className="wb-mono">{x.neuronpedia ?? '—'}</td>
                          <td className="wb-mono">{x.path ?? `missing: ${x.problem ?? ''}`}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <ul data-testid="release-models">
                    {located.models.map((mm) => (
                      <li key={mm.repoId}>
                        <span className="wb-mono">{mm.repoId}</span>:{' '}
                        {mm.path ? (
                          <button data-testid={`use-model-${mm.repoId}`} onClick={() => adoptModel(mm.path!)} disabled={act.busy}>
                            Use {mm.path}
                          </button>
                        ) : (
                          <span className="wb-mono">not in the cache — {mm.download}</span>
                        )}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
            </>
          ) : (
            !relQ.loading && <EmptyState title="No release registry" hint="The SAE release registry is served by the desktop app or the headless server." testId="release-empty" />
          )}
        </Card>
        <Card title="SAEs — fit preflight per layer" testId="sae-card">
          <div className="wb-toolbar">
            <textarea data-testid="sae-folders-input" rows={2} cols={40} placeholder="SAE folders or files, one a line (Gemma Scope, SAELens, Llama Scope)" value={saeFolders} onChange={(e) => setSaeFolders(e.target.value)} />
            <button data-testid="sae-check" onClick={checkSaes} disabled={act.busy}>
              Check fit
            </button>
          </div>
          {p && p.saes.length ? (
            <>
              <p className="wb-muted">
                Budget {fmtBytes(p.budgetBytes)}; model {fmtBytes(p.modelBytes)}. Bars: model + one SAE layer resident.
              </p>
              <div data-testid="sae-preflight-chart">
                <BarChart width={Math.max(320, 36 * chart.length + 80)} height={220} data={chart} margin={{ top: 10, right: 10, bottom: 10, left: 10 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="layer" fontSize={10} />
                  <YAxis fontSize={10} unit=" GiB" />
                  <Tooltip formatter={(v) => `${fmt(Number(v), 2)} GiB`} />
                  <ReferenceLine y={budget} stroke="#e03131" strokeDasharray="4 2" label={{ value: 'budget', fontSize: 10 }} />
                  <Bar dataKey="gib" isAnimationActive={false}>
                    {chart.map((c) => (
                      <Cell key={c.layer} fill={c.fits ? '#2b8a3e' : '#e03131'} />
                    ))}
                  </Bar>
                </BarChart>
              </div>
              <table className="wb-table" data-testid="sae-table">
                <thead>
                  <tr>
                    <th>layer</th>
                    <th>SAE</th>
                    <th>d_sae</th>
                    <th>size</th>
                    <th>fits</th>
                    <th>Neuronpedia</th>
                  </tr>
                </thead>
                <tbody>
                  {p.saes.map((s) => (
                    <tr key={s.layer}>
                      <td className="wb-num">{s.layer}</td>
                      <td className="wb-mono">{s.saeId ?? s.path ?? '—'}</td>
                      <td className="wb-num">{fmtCount(s.dSae)}</td>
                      <td className="wb-num">{fmtBytes(s.bytes)}</td>
                      <td>{s.fits ? '✓' : '✗ too large'}</td>
                      <td className="wb-mono">{s.neuronpediaId ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : (
            !preQ.loading && <EmptyState title="No SAEs checked yet" hint="Add SAE folders (one per layer or a release folder) and check which layers fit next to the model." testId="sae-empty" />
          )}
        </Card>
      </div>
    </div>
  );
}

export default ModelsView;
