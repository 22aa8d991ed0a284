import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { connectApi } from './api';
import { App, type ViewMap } from './app/App';
import * as viewsModule from './views/index';

const views: ViewMap = ((viewsModule as { views?: ViewMap }).views ?? {}) as ViewMap;

let setStatus: ((s: 'connecting' | 'open' | 'closed') => void) | null = null;
let initial: 'connecting' | 'open' | 'closed' = 'connecting';
const api = connectApi((s) => {
  initial = s;
  setStatus?.(s);
});

function Root() {
  const [status, set] = useState(initial);
  setStatus = set;
  return <App api={api} views={views} connection={status} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
