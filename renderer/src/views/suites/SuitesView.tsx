import { useEffect, useMemo, useRef, useState } from 'react';
import type { StoredSuite, WorkbenchApi } from '../types';
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
  const [current, setCurrent] = useState<{ id: string | null; suite: PromptSuite; dirty: boolean } | null>(null);
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
                <button className="wb-link" onClick={() => setCurrent({ id: s.id, suite: s.suite, dirty: false })}>
                  {s.suite.name}
                </button>{' '}
                <span className="wb-muted">{s.suite.items.length}</span>
              </li>
            ))}
          </ul>
          {!listQ.loading && !(listQ.data ?? []).length && <p className="wb-muted">None yet.</p>}
        </aside>
        <main className="wb-detail-pane">
          {current ? (
            <SuiteEditor
              suite={current.suite}
              draft={current.id === null}
              dirty={current.dirty}
              onChange={(suite) => {
                setSavedMsg(undefined);
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
