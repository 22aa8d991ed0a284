/**
 * The app frame: left rail, top bar (project name, backend, job indicator), the current view, the job
 * drawer and notifications. Views come from renderer/src/views/index.tsx (`views[sectionId]`, each
 * `React.ComponentType<{api: WorkbenchApi}>`); sections without a view show an empty state.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import type { ApiEvent, AppInfo, JobInfo, ProjectInfo, WorkbenchApi } from '../../../common/api';
import { ErrorBoundary } from './ErrorBoundary';
import { JobDrawer } from './JobDrawer';
import { ProjectPicker } from './ProjectPicker';
import { railSections, sectionIdFromHash } from './nav';
import './app.css';

export type ViewMap = Record<string, ComponentType<{ api: WorkbenchApi }>>;

interface Toast {
  id: number;
  level: 'info' | 'success' | 'warning' | 'error';
  message: string;
}

const NAVIGATE_EVENT = 'workbench:navigate';

export function App({ api, views = {}, connection = 'open' }: { api: WorkbenchApi; views?: ViewMap; connection?: 'connecting' | 'open' | 'closed' }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [project, setProject] = useState<ProjectInfo | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [jobs, setJobs] = useState<Map<string, JobInfo>>(new Map());
  const SECTIONS = useMemo(() => railSections(Object.keys(views)), [views]);
  const sectionFromHash = useCallback((hash: string) => sectionIdFromHash(hash, SECTIONS), [SECTIONS]);
  const [section, setSection] = useState(() => (typeof location !== 'undefined' ? sectionIdFromHash(location.hash, railSections(Object.keys(views))) : 'project'));
  const [drawer, setDrawer] = useState(false);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const toastId = useRef(0);

  const notify = useCallback((level: Toast['level'], message: string) => {
    const id = ++toastId.current;
    setToasts((t) => [...t.slice(-4), { id, level, message }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), level === 'error' ? 12_000 : 6_000);
    try {
      if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
        new Notification('Refusal Workbench', { body: message });
      }
    } catch {
      /* not available */
    }
  }, []);
  const onError = useCallback((m: string) => notify('error', m), [notify]);

  const refresh = useCallback(async () => {
    const [i, p, j] = await Promise.all([api.app.info(), api.projects.current(), api.jobs.list()]);
    setInfo(i);
    setProject(p);
    setJobs(new Map(j.map((x) => [x.id, x])));
    setLoaded(true);
  }, [api]);

  useEffect(() => {
    const off = api.onEvent((e: ApiEvent) => {
      if (e.type === 'job') setJobs((m) => new Map(m).set(e.job.id, e.job));
      else if (e.type === 'project') {
        setProject(e.project);
        void api.app.info().then(setInfo, () => undefined);
      } else if (e.type === 'backend') setInfo((i) => (i ? { ...i, backend: e.backend } : i));
      else if (e.type === 'notification') notify(e.level, e.message);
    });
    refresh().catch((e: Error) => onError(e.message));
    return off;
  }, [api, refresh, notify, onError]);

  // After a reconnect, reload state the events may have missed.
  useEffect(() => {
    if (connection === 'open' && loaded) refresh().catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [connection]);

  // Navigation: rail clicks, the hash, and `workbench:navigate` events from views.
  const go = useCallback(
    (id: string) => {
      setSection(id);
      try {
        if (sectionFromHash(location.hash) !== id) history.replaceState(null, '', `#/${id}`);
      } catch {
        /* ignore */
      }
    },
    [sectionFromHash],
  );
  useEffect(() => {
    const onNav = (e: Event) => {
      const v = (e as CustomEvent<{ view: string }>).detail?.view;
      if (v && SECTIONS.some((s) => s.id === v)) setSection(v);
    };
    const onHash = () => setSection(sectionFromHash(location.hash));
    window.addEventListener(NAVIGATE_EVENT, onNav);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener(NAVIGATE_EVENT, onNav);
      window.removeEventListener('hashchange', onHash);
    };
  }, [SECTIONS, sectionFromHash]);

  // Keyboard: g graph, f features, / search, Esc closes the drawer.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) {
        if (e.key === 'Escape') t.blur();
        return;
      }
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'Escape') setDrawer(false);
      else if (e.key === '/') {
        e.preventDefault();
        window.dispatchEvent(new CustomEvent('workbench:search'));
      } else {
        const s = SECTIONS.find((x) => x.key === e.key);
        if (s) go(s.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go, SECTIONS]);

  const jobList = useMemo(() => [...jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [jobs]);
  const running = jobList.filter((j) => j.status === 'running' || j.status === 'queued');
  const current = SECTIONS.find((s) => s.id === section) ?? SECTIONS[0]!;
  const View = views[current.id];

  let body;
  if (!loaded) body = <p className="wb-muted">Connecting…</p>;
  else if (current.id === 'project' || !project) {
    body = (
      <>
        <ProjectPicker api={api} project={project} onError={onError} />
        {project && View && (
          <ErrorBoundary name={current.label}>
            <View api={api} />
          </ErrorBoundary>
        )}
      </>
    );
  } else if (View) {
    body = (
      <ErrorBoundary name={current.label} key={current.id}>
        <View api={api} />
      </ErrorBoundary>
    );
  } else {
    body = (
      <div className="wb-empty" role="status" data-testid="empty-state">
        <p className="wb-empty-title">{current.label}</p>
        <p className="wb-empty-hint">{current.empty || 'Nothing here yet.'}</p>
      </div>
    );
  }

  return (
    <div className={`wb-app${drawer ? ' wb-with-drawer' : ''}`}>
      <header className="wb-topbar">
        <span className="wb-brand">Refusal Workbench</span>
        <span className="wb-project-name" data-testid="project-name" title={project?.dir}>
          {project ? project.name : 'no project'}
        </span>
        <span className="wb-spacer" />
        <span className={`wb-conn wb-conn-${connection}`} data-testid="connection" title={`transport: ${api.transport}`}>
          {connection === 'open' ? api.transport : connection}
        </span>
        <span className="wb-backend" data-testid="backend" title="compute backend">
          {info ? `${info.backend} · ${info.shell}` : '…'}
        </span>
        <button
          className={`wb-job-indicator${running.length ? ' busy' : ''}`}
          data-testid="job-indicator"
          aria-expanded={drawer}
          onClick={() => setDrawer((d) => !d)}
        >
          {running.length ? `${running.length} job${running.length > 1 ? 's' : ''} running` : 'Jobs'}
        </button>
      </header>
      <nav className="wb-rail" aria-label="Sections">
        {SECTIONS.map((s) => (
          <button
            key={s.id}
            className={s.id === current.id ? 'active' : ''}
            aria-current={s.id === current.id ? 'page' : undefined}
            data-testid={`nav-${s.id}`}
            onClick={() => go(s.id)}
            title={s.key ? `${s.label} (${s.key})` : s.label}
          >
            {s.label}
          </button>
        ))}
      </nav>
      <main className="wb-main" data-testid={`section-${current.id}`}>
        {body}
      </main>
      {drawer && <JobDrawer api={api} jobs={jobList} onClose={() => setDrawer(false)} onError={onError} />}
      <div className="wb-toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`wb-toast wb-toast-${t.level}`} role={t.level === 'error' ? 'alert' : 'status'} data-testid="toast">
            {t.message}
            <button className="wb-link" aria-label="Dismiss" onClick={() => setToasts((x) => x.filter((y) => y.id !== t.id))}>
              ✕
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
