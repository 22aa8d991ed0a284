/** The left rail's sections, in order. Views are looked up by `id` in renderer/src/views/index.tsx. */
export interface Section {
  id: string;
  label: string;
  /** Shown when no view is mounted for this section yet. */
  empty: string;
  key?: string;
}

export const SECTIONS: Section[] = [
  { id: 'project', label: 'Project', empty: 'Open a project folder, create one, or use the demo.' },
  { id: 'models', label: 'Models & SAEs', empty: 'No model yet — open a Hugging Face folder, or use the demo.' },
  { id: 'suites', label: 'Prompt suites', empty: 'No prompt suites yet — import a CSV/JSONL or use the demo suites.' },
  { id: 'runs', label: 'Runs', empty: 'No runs yet — start one from here once a model and SAEs are loaded.' },
  { id: 'graph', label: 'Graph', empty: 'No graph yet — a discovery run draws one.', key: 'g' },
  { id: 'features', label: 'Features', empty: 'No features yet — pick one from the graph or search by id (L15/30001).', key: 'f' },
  { id: 'playground', label: 'Playground', empty: 'Load a model to generate base, clamped and ablated answers side by side.' },
  { id: 'probes', label: 'Probes', empty: 'No probe runs yet.' },
  { id: 'exports', label: 'Exports', empty: 'Nothing exported yet — every figure and table has PNG/SVG/CSV/JSON buttons.' },
];

export function sectionFromHash(hash: string): string {
  const m = /^#\/?([^?/]*)/.exec(hash);
  const id = m?.[1] ?? '';
  return SECTIONS.some((s) => s.id === id) ? id : 'project';
}

/** The rail: the fixed sections, then any extra view the views module mounts (e.g. `categories`). */
export function railSections(viewIds: string[]): Section[] {
  const extra = viewIds
    .filter((id) => !SECTIONS.some((s) => s.id === id))
    .map((id) => ({ id, label: id.charAt(0).toUpperCase() + id.slice(1).replace(/[-_]/g, ' '), empty: '' }));
  if (!extra.length) return SECTIONS;
  // Extras go before Exports, which stays last.
  return [...SECTIONS.slice(0, -1), ...extra, SECTIONS[SECTIONS.length - 1]!];
}

export function sectionIdFromHash(hash: string, sections: Section[]): string {
  const m = /^#\/?([^?/]*)/.exec(hash);
  const id = m?.[1] ?? '';
  return sections.some((s) => s.id === id) ? id : 'project';
}
