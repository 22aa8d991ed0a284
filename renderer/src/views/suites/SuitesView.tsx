import { useEffect, useMemo, useRef, useState } from 'react';
import type { BuiltinSuiteVM, StoredSuite, WorkbenchApi } from '../types';
import type { PromptItem, PromptSuite, Split } from '../../../../common/suites/schema';
import { SuiteImportError } from '../../../../common/suites/errors';
import { importSuite } from '../../../../common/suites/import';
import { categoryCounts, editItem, splitSuite, tagItems } from '../../../../common/suites/ops';
import { toViewApi } from '../api';
import { useAction, useAsync } from '../../components/useAsync';
import { EmptyState } from '../../components/EmptyState';
import { ProgressBar } from '../../components/ProgressBar';
import { Card, ErrorLine, ViewHeader } from '../../components/Section';
import { useSlashFocus } from '../../components/keyboard';

const ROLE_TAGS = ['harmful', 'harmless', 'adversarial'] as const;
const PAGE = 200;

export interface ImportProblem {
  file: string;
  line: number;
  problem: string;
}

/** Import a suite file; a bad file yields `{file, line, problem}` instead of a stack trace. */
export function tryImport(text: string, filename: string, tags: string[] = []): { suite?: PromptSuite; problem?: ImportProblem } {
  try {
    return { suite: importSuite(text, filename, { tags }) };
  } catch (e) {
    if (e instanceof SuiteImportError) return { problem: { file: filename, line: e.line, problem: e.problem } };
    return { problem: { file: filename, line: 0, problem: e instanceof Error ? e.message : String(e) } };
  }
}

export function SuitesView({ api: rawApi }: { api: WorkbenchApi }) {
  const api = useMemo(() => toViewApi(rawApi), [rawApi]);
  const listQ = useAsync<StoredSuite[]>(() => api.listSuites?.() ?? Promise.resolve([]), [api]);
  const builtinQ = useAsync<BuiltinSuiteVM[]>(() => api.listBuiltinSuites?.() ?? Promise.resolve([]), [api]);
  const [current, setCurrent] = useState<{ id: string | null; suite: PromptSuite; dirty: boolean } | null>(null);
  const [builtinShown, setBuiltinShown] = useState<BuiltinSuiteVM | null>(null);
  const importBuiltin = useAction();
  const [problem, setProblem] = useState<ImportProblem>();
  const [importTag, setImportTag] = useState<string>('');
  const save = useAction();
  const [savedMsg, setSavedMsg] = useState<string>();

  useEffect(() => {
    if (!current && listQ.data?.length) setCurrent({ id: listQ.data[0].id, suite: listQ.data[0].suite, dirty: false });
  }, [listQ.data, current]);

  const onFile = async (file: File) => {
    setSavedMsg(undefined);
    const text = await file.text();
    const r = tryImport(text, file.name, importTag ? [importTag] : []);
    if (r.problem) {
      setProblem(r.problem);
      return;
    }
    setProblem(undefined);
    setCurrent({ id: null, suite: r.suite!, dirty: true });
  };

  /** The project's copy of a built-in suite, if any (matched by name; `current` says whether it is that version). */
  const copyOf = (b: BuiltinSuiteVM) => (listQ.data ?? []).find((s) => s.suite.builtin?.name === b.name);

  const onImportBuiltin = (b: BuiltinSuiteVM) =>
    importBuiltin.run(async () => {
      if (!api.importBuiltinSuite) throw new Error('Importing built-in suites needs an open project.');
      const s = await api.importBuiltinSuite(b.name);
      setBuiltinShown(null);
      setCurrent({ id: s.id, suite: s.suite, dirty: false });
      setSavedMsg(`Imported ${b.title} as ${s.id}`);
      listQ.reload();
    });

  const onSave = () =>
    save.run(async () => {
      if (!current) return;
      if (!api.saveSuite) throw new Error('Saving suites needs an open project.');
      const id = await api.saveSuite(current.id, current.suite);
      setCurrent({ id, suite: current.suite, dirty: false });
      setSavedMsg(`Saved ${id}`);
      listQ.reload();
    });

  return (
    <div className="wb-view wb-suites" data-testid="view-suites">
      <ViewHeader title="Prompt suites">
        <label title="Tag added to every imported prompt">
          tag imports as{' '}
          <select value={importTag} onChange={(e) => setImportTag(e.target.value)} data-testid="suite-import-tag">
            <option value="">(none)</option>
            {ROLE_TAGS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="wb-file-button">
          Import file…
          <input
            type="file"
            data-testid="suite-import-input"
            accept=".json,.jsonl,.ndjson,.csv,.tsv,.txt"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void onFile(f);
              e.target.value = '';
            }}
          />
        </label>
      </ViewHeader>
      {problem && (
        <div className="wb-error-box" role="alert" data-testid="suite-import-error" data-line={problem.line}>
          <strong>{problem.file}</strong>
          {problem.line > 0 ? (
            <>
              {' '}
              — <span data-testid="suite-import-error-line">line {problem.line}</span>
            </>
          ) : null}
          : {problem.problem}
        </div>
      )}
      <div className="wb-split">
        <aside className="wb-list-pane">
          <h3>In this project</h3>
          {listQ.loading && listQ.slow && <ProgressBar />}
          <ul className="wb-feature-list" data-testid="suite-list">
            {(listQ.data ?? []).map((s) => (
              <li key={s.id} className={current?.id === s.id ? 'active' : ''}>
                <button
                  className="wb-link"
                  onClick={() => {
                    setBuiltinShown(null);
                    setCurrent({ id: s.id, suite: s.suite, dirty: false });
                  }}
                >
                  {s.suite.name}
                </button>{' '}
                <span className="wb-muted">{s.suite.items.length}</span>
              </li>
            ))}
          </ul>
          {!listQ.loading && !(listQ.data ?? []).length && <p className="wb-muted">None yet.</p>}
          <h3>Built-in</h3>
          <ul className="wb-feature-list wb-builtin-list" data-testid="builtin-list">
            {(builtinQ.data ?? []).map((b) => {
              const copy = copyOf(b);
              return (
                <li key={b.name} data-testid={`builtin-${b.name}`} className={`wb-builtin-item${builtinShown?.name === b.name ? ' active' : ''}`}>
                  <div>
                    <button className="wb-link" onClick={() => setBuiltinShown(b)} title={`builtin:${b.name} — ${b.origin}`}>
                      {b.title}
                    </button>
                    <div className="wb-muted">
                      {b.items} · {b.role}
                    </div>
                  </div>
                  {copy ? (
                    <span className="wb-badge" data-testid={`builtin-in-project-${b.name}`}>
                      {copy.suite.builtin?.sha256 === b.sha256 ? 'in project' : 'older copy in project'}
                    </span>
                  ) : (
                    <button data-testid={`builtin-import-${b.name}`} disabled={importBuiltin.busy || !api.importBuiltinSuite} onClick={() => void onImportBuiltin(b)}>
                      Import
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          {builtinQ.error && <p className="wb-muted">Built-in suites unavailable: {builtinQ.error}</p>}
          <ErrorLine error={importBuiltin.error} />
        </aside>
        <main className="wb-detail-pane">
          {builtinShown ? (
            <BuiltinDetail b={builtinShown} copy={copyOf(builtinShown)} busy={importBuiltin.busy} canImport={!!api.importBuiltinSuite} onImport={() => void onImportBuiltin(builtinShown)} />
          ) : current ? (
            <SuiteEditor
              suite={current.suite}
              draft={current.id === null}
              dirty={current.dirty}
              onChange={(edited) => {
                setSavedMsg(undefined);
                // an edited copy of a built-in is derived from that version, no longer equal to it
                const suite = edited.builtin && !edited.builtin.modified ? { ...edited, builtin: { ...edited.builtin, modified: true as const } } : edited;
                setCurrent({ ...current, suite, dirty: true });
              }}
              onSave={onSave}
              saving={save.busy}
            />
          ) : (
            <EmptyState
              title="No prompt suites yet"
              hint="Import a file: JSON [{instruction, category}], JSONL, CSV (AdvBench, HarmBench, JailbreakBench, StrongREJECT), plain text (one prompt a line) or a WildJailbreak TSV."
              testId="suites-empty"
            />
          )}
          <ErrorLine error={save.error} />
          {savedMsg && <p className="wb-ok" data-testid="suite-saved">{savedMsg}</p>}
        </main>
      </div>
    </div>
  );
}

function BuiltinDetail({
  b,
  copy,
  busy,
  canImport,
  onImport,
}: {
  b: BuiltinSuiteVM;
  copy: StoredSuite | undefined;
  busy: boolean;
  canImport: boolean;
  onImport: () => void;
}) {
  const src = `${b.source.repository}${b.source.commit ? ` @ ${b.source.commit}` : ''} · ${b.source.file}`;
  return (
    <Card
      title={
        <>
          {b.title} <span className="wb-badge">Built-in</span>
        </>
      }
      testId="builtin-detail"
      actions={
        <button className="primary" data-testid="builtin-detail-import" disabled={busy || !canImport || !!copy} onClick={onImport}>
          {copy ? 'In project' : 'Import into project'}
        </button>
      }
    >
      <dl className="wb-dl">
        <dt>use in a pipeline</dt>
        <dd className="wb-mono" data-testid="builtin-ref">
          builtin:{b.name}
        </dd>
        <dt>prompts</dt>
        <dd>
          {b.items} · {b.role}
          {b.split ? ` · ${b.split} split` : ''}
        </dd>
        <dt>source</dt>
        <dd className="wb-mono" data-testid="builtin-source">
          {src}
        </dd>
        <dt>origin</dt>
        <dd>{b.origin}</dd>
        <dt>licence</dt>
        <dd data-testid="builtin-licence">{b.licence}</dd>
        <dt>sha256</dt>
        <dd className="wb-mono" data-testid="builtin-sha256">
          {b.sha256}
        </dd>
      </dl>
      <h3>Cite</h3>
      <pre className="wb-citation" data-testid="builtin-citation">
        {b.citation}
      </pre>
    </Card>
  );
}

function SuiteEditor({
  suite,
  draft,
  dirty,
  onChange,
  onSave,
  saving,
}: {
  suite: PromptSuite;
  draft: boolean;
  dirty: boolean;
  onChange: (s: PromptSuite) => void;
  onSave: () => void;
  saving: boolean;
}) {
  const cats = useMemo(() => categoryCounts(suite), [suite]);
  const [cat, setCat] = useState<string>('*');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<string | null>(null);
  const [seed, setSeed] = useState(42);
  const [frac, setFrac] = useState({ train: 0.6, val: 0.2, test: 0.2 });
  const [stratify, setStratify] = useState(true);
  const [limit, setLimit] = useState(PAGE);
  const searchRef = useRef<HTMLInputElement>(null);
  useSlashFocus(searchRef);

  const rows = useMemo(() => {
    const q = query.trim().toLowerCase();
    return suite.items.filter(
      (it) => (cat === '*' || (it.category ?? '∅') === cat) && (!q || it.instruction.toLowerCase().includes(q) || it.tags.some((t) => t.includes(q))),
    );
  }, [suite, cat, query]);
  const splitCounts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const it of suite.items) c[it.split ?? 'unsplit'] = (c[it.split ?? 'unsplit'] ?? 0) + 1;
    return c;
  }, [suite]);

  const tagSelected = (t: string) => {
    const ids = selected.size ? [...selected] : rows.map((r) => r.id);
    // a role tag replaces the other role tags
    let s = tagItems(suite, ROLE_TAGS.filter((x) => x !== t), { mode: 'remove', select: ids });
    s = tagItems(s, [t], { mode: 'add', select: ids });
    onChange(s);
  };

  return (
    <div data-testid="suite-editor">
      <header className="wb-card-header">
        <h2>
          {suite.name} {draft && <span className="wb-badge" data-testid="suite-draft">preview — not saved</span>}
        </h2>
        <div className="wb-card-actions">
          <span className="wb-muted" data-testid="suite-count">
            {suite.items.length} prompts{suite.source ? ` · ${suite.source.file} (${suite.source.format})` : ''}
          </span>
          {suite.builtin && (
            <span className="wb-badge" data-testid="suite-builtin" title={`sha256 ${suite.builtin.sha256}`}>
              built-in {suite.builtin.name} · {suite.builtin.sha256.slice(0, 12)}
              {suite.builtin.modified ? ' · edited since import' : ''}
            </span>
          )}
          <button className="primary" data-testid="suite-save" onClick={onSave} disabled={saving || (!dirty && !draft)}>
            {draft ? 'Save to project' : 'Save'}
          </button>
        </div>
      </header>
      <div className="wb-toolbar">
        <input ref={searchRef} type="search" placeholder="Search prompts  ( / )" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="suite-search" />
        <label>
          Category{' '}
          <select value={cat} onChange={(e) => setCat(e.target.value)} data-testid="suite-category-filter">
            <option value="*">all ({suite.items.length})</option>
            {cats.map((c) => (
              <option key={c.category ?? '∅'} value={c.category ?? '∅'}>
                {c.category ?? '(none)'} ({c.count})
              </option>
            ))}
          </select>
        </label>
        <span className="wb-muted">Tag {selected.size ? `${selected.size} selected` : `${rows.length} shown`} as</span>
        {ROLE_TAGS.map((t) => (
          <button key={t} data-testid={`suite-tag-${t}`} onClick={() => tagSelected(t)}>
            {t}
          </button>
        ))}
      </div>
      <Card title="Split" testId="suite-split">
        <div className="wb-toolbar">
          {(['train', 'val', 'test'] as Split[]).map((k) => (
            <label key={k}>
              {k}{' '}
              <input type="number" step={0.05} min={0} max={1} value={frac[k]} onChange={(e) => setFrac({ ...frac, [k]: Number(e.target.value) })} style={{ width: '4.5em' }} />
            </label>
          ))}
          <label>
            seed <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} style={{ width: '5em' }} />
          </label>
          <label>
            <input type="checkbox" checked={stratify} onChange={(e) => setStratify(e.target.checked)} /> per category
          </label>
          <button data-testid="suite-split-apply" onClick={() => onChange(splitSuite(suite, { seed, fractions: frac, stratifyByCategory: stratify }))}>
            Split
          </button>
          <span className="wb-muted" data-testid="suite-split-counts">
            {Object.entries(splitCounts)
              .map(([k, v]) => `${k} ${v}`)
              .join(' · ')}
          </span>
        </div>
      </Card>
      <table className="wb-table wb-prompts" data-testid="suite-preview">
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="select all shown"
                checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
                onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
              />
            </th>
            <th>#</th>
            <th>prompt</th>
            <th>category</th>
            <th>tags</th>
            <th>split</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, limit).map((it) => (
            <PromptRow
              key={it.id}
              it={it}
              checked={selected.has(it.id)}
              editing={editing === it.id}
              onCheck={(v) => {
                const s = new Set(selected);
                if (v) s.add(it.id);
                else s.delete(it.id);
                setSelected(s);
              }}
              onEdit={() => setEditing(it.id)}
              onCommit={(patch) => {
                setEditing(null);
                if (patch) onChange(editItem(suite, it.id, patch));
              }}
            />
          ))}
        </tbody>
      </table>
      {rows.length > limit && (
        <p className="wb-muted">
          Showing {limit} of {rows.length}. <button className="wb-link" onClick={() => setLimit(limit + PAGE * 5)}>Show more</button>
        </p>
      )}
    </div>
  );
}

function PromptRow({
  it,
  checked,
  editing,
  onCheck,
  onEdit,
  onCommit,
}: {
  it: PromptItem;
  checked: boolean;
  editing: boolean;
  onCheck: (v: boolean) => void;
  onEdit: () => void;
  onCommit: (patch?: Partial<PromptItem>) => void;
}) {
  const [text, setText] = useState(it.instruction);
  const [cat, setCat] = useState(it.category ?? '');
  return (
    <tr data-testid={`suite-row-${it.id}`}>
      <td>
        <input type="checkbox" checked={checked} onChange={(e) => onCheck(e.target.checked)} aria-label={`select ${it.id}`} />
      </td>
      <td className="wb-mono wb-muted">{it.id}</td>
      <td onDoubleClick={onEdit} title="Double-click to edit">
        {editing ? (
          <textarea
            autoFocus
            rows={3}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') onCommit();
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) onCommit({ instruction: text, category: cat || null });
            }}
            onBlur={() => onCommit(text.trim() ? { instruction: text, category: cat || null } : undefined)}
          />
        ) : (
          it.instruction
        )}
      </td>
      <td>{editing ? <input value={cat} onChange={(e) => setCat(e.target.value)} /> : it.category ?? <span className="wb-muted">—</span>}</td>
      <td>{it.tags.join(', ')}</td>
      <td>{it.split ?? ''}</td>
    </tr>
  );
}

export default SuitesView;
