import type { ComponentType } from 'react';
import type { WorkbenchApi } from '../../../common/api';
import { ProjectView } from './project/ProjectView';
import { ModelsView } from './models/ModelsView';
import { SuitesView } from './suites/SuitesView';
import { RunsView } from './runs/RunsView';
import { GraphView } from './graph/GraphView';
import { FeaturesView } from './features/FeaturesView';
import { PlaygroundView } from './playground/PlaygroundView';
import { ProbesView } from './probes/ProbesView';
import { CategoriesView } from './categories/CategoriesView';
import { ExportsView } from './exports/ExportsView';
import { ResultsView } from './results/ResultsView';
import '../styles/views.css';

/**
 * The workbench views, keyed by rail item id. Each takes the shell's `WorkbenchApi` (a `ViewApi` also works,
 * for tests and previews). Cross-view navigation: views dispatch `workbench:navigate` ({view, params}) on
 * window — see components/nav.ts — which the frame listens to.
 */
export const views: Record<string, ComponentType<{ api: WorkbenchApi }>> = {
  project: ProjectView,
  models: ModelsView,
  suites: SuitesView,
  runs: RunsView,
  results: ResultsView,
  graph: GraphView,
  features: FeaturesView,
  playground: PlaygroundView,
  probes: ProbesView,
  categories: CategoriesView,
  exports: ExportsView,
};

/** Rail order and titles (UI.md), for the shell's left rail. */
export const viewTitles: Array<{ id: string; title: string; key?: string }> = [
  { id: 'project', title: 'Project' },
  { id: 'models', title: 'Models & SAEs' },
  { id: 'suites', title: 'Prompt suites' },
  { id: 'runs', title: 'Runs' },
  { id: 'results', title: 'Results' },
  { id: 'graph', title: 'Graph', key: 'g' },
  { id: 'features', title: 'Features', key: 'f' },
  { id: 'playground', title: 'Playground' },
  { id: 'probes', title: 'Probes' },
  { id: 'categories', title: 'Categories' },
  { id: 'exports', title: 'Exports' },
];

export { NAVIGATE_EVENT, navigate, selectFeature, selectRun, useSelection } from '../components/nav';
export { installViewShortcuts } from '../components/keyboard';
export default views;
