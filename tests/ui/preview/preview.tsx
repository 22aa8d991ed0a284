/**
 * Visual preview of every view over the seeded fixture project (no server): used to screenshot the views
 * in Chromium (tests/ui/preview/shoot.mjs). `#/graph` etc. picks the view.
 */
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { views, viewTitles } from '../../../renderer/src/views/index';
import { NAVIGATE_EVENT, selectFeature } from '../../../renderer/src/components/nav';
import { fakeProject } from '../fixtures/fakeApi';
import { FIRST } from '../fixtures/data';
import '../../../renderer/src/app/app.css';

const p = fakeProject();
p.notes.set(FIRST, { label: 'weapon requests', notes: 'fires on "bomb"', tags: ['harm'] });
selectFeature(FIRST);
(window as unknown as { __files: Map<string, string> }).__files = p.files;

function Preview() {
  const [id, setId] = useState(() => location.hash.replace(/^#\/?/, '').split('?')[0] || 'project');
  useEffect(() => {
    const on = (e: Event) => setId((e as CustomEvent<{ view: string }>).detail.view);
    const onHash = () => setId(location.hash.replace(/^#\/?/, '').split('?')[0] || 'project');
    window.addEventListener(NAVIGATE_EVENT, on);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener(NAVIGATE_EVENT, on);
      window.removeEventListener('hashchange', onHash);
    };
  }, []);
  const View = views[id] ?? views.project;
  return (
    <div className="wb-app">
      <header className="wb-topbar">
        <span className="wb-brand">Refusal Workbench</span>
        <span className="wb-project-name">Demo project (fixtures)</span>
      </header>
      <nav className="wb-rail">
        {viewTitles.map((v) => (
          <button key={v.id} className={v.id === id ? 'active' : ''} onClick={() => (location.hash = `#/${v.id}`)}>
            {v.title}
          </button>
        ))}
      </nav>
      <main className="wb-main">
        <View key={id} api={p.api} />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<Preview />);
