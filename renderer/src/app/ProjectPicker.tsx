import { useEffect, useState } from 'react';
import type { ProjectInfo, RecentProject, WorkbenchApi } from '../../../common/api';

export function ProjectPicker({ api, project, onError }: { api: WorkbenchApi; project: ProjectInfo | null; onError(msg: string): void }) {
  const [recent, setRecent] = useState<RecentProject[]>([]);
  const [openDir, setOpenDir] = useState('');
  const [newDir, setNewDir] = useState('');
  const [newName, setNewName] = useState('');
  const [rename, setRename] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api.projects.recent().then((r) => live && setRecent(r), () => undefined);
    return () => {
      live = false;
    };
  }, [api, project?.dir]);

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="wb-picker" data-testid="project-picker">
      {project ? (
        <div className="wb-card">
          <h2>
            Project <span data-testid="picker-project-name">{project.name}</span>
          </h2>
          <p className="wb-muted wb-mono">{project.dir}</p>
          <p className="wb-muted">
            {project.project.sources.length} source(s) · backend {String(project.project.settings.backend)} · created{' '}
            {new Date(project.project.createdAt).toLocaleString()}
          </p>
          {project.warnings.length > 0 && (
            <ul className="wb-warnings" data-testid="project-warnings">
              {project.warnings.map((w, i) => (
                <li key={i}>
                  <span className="wb-mono">{w.path}</span>: {w.message}
                  {w.keptAs ? ` (kept as ${w.keptAs})` : ''}
                </li>
              ))}
            </ul>
          )}
          <form
            className="wb-row"
            onSubmit={(e) => {
              e.preventDefault();
              if (rename.trim()) void run(() => api.projects.rename({ name: rename.trim() }).then(() => setRename('')));
            }}
          >
            <input aria-label="New project name" placeholder="Rename project…" value={rename} onChange={(e) => setRename(e.target.value)} />
            <button type="submit" disabled={busy || !rename.trim()}>
              Rename
            </button>
            <button type="button" disabled={busy} onClick={() => void run(() => api.projects.close())}>
              Close project
            </button>
          </form>
        </div>
      ) : (
        <div className="wb-empty" role="status" data-testid="no-project">
          <p className="wb-empty-title">No project open</p>
          <p className="wb-empty-hint">Open a recent project or a folder, create a new one, or reopen the demo.</p>
        </div>
      )}

      <div className="wb-card">
        <h3>Recent projects</h3>
        {recent.length === 0 ? (
          <p className="wb-muted">None yet.</p>
        ) : (
          <ul className="wb-list" data-testid="recent-projects">
            {recent.map((r) => (
              <li key={r.dir}>
                <button
                  className="wb-link"
                  disabled={busy || !r.exists || r.dir === project?.dir}
                  onClick={() => void run(() => api.projects.open({ dir: r.dir }))}
                  title={r.dir}
                >
                  {r.name ?? '(missing)'}
                </button>{' '}
                <span className="wb-muted wb-mono">{r.dir}</span>
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="wb-card">
        <h3>Open a project folder</h3>
        <form
          className="wb-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (openDir.trim()) void run(() => api.projects.open({ dir: openDir.trim() }));
          }}
        >
          <input aria-label="Project folder" className="wb-grow" placeholder="/path/to/project" value={openDir} onChange={(e) => setOpenDir(e.target.value)} />
          <button type="submit" disabled={busy || !openDir.trim()}>
            Open
          </button>
        </form>
        <h3>New project</h3>
        <form
          className="wb-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (newDir.trim() && newName.trim()) void run(() => api.projects.create({ dir: newDir.trim(), name: newName.trim() }));
          }}
        >
          <input aria-label="New project folder" className="wb-grow" placeholder="/path/to/new-project" value={newDir} onChange={(e) => setNewDir(e.target.value)} />
          <input aria-label="New project title" placeholder="Name" value={newName} onChange={(e) => setNewName(e.target.value)} />
          <button type="submit" disabled={busy || !newDir.trim() || !newName.trim()}>
            Create
          </button>
        </form>
      </div>
    </section>
  );
}
