/**
 * Every result file a step writes, by kind: the reader/writer definition (current schema + migrations) of
 * each. `resultDef(kind)` is how a consumer that knows only a step output's declared kind finds its schema;
 * a test checks that every `{kind, schemaVersion}` declared in common/steps has one here at that version.
 */
import { categoriesResults } from './categories.js';
import { DashboardFeatureFileSchema, DashboardIndexSchema, DASHBOARD_FEATURE_KIND, DASHBOARD_INDEX_KIND } from './dashboard.js';
import { discoveryResults } from './discovery.js';
import { ExperimentTableSchema } from './experiments.js';
import { featureGraph } from './graph.js';
import { featureDetailFile, playgroundFile, preflightFile } from './job-files.js';
import { runManifest } from './manifest.js';
import { probeReport } from './probe-report.js';
import { defineResult, type ResultDef } from './versioned.js';

export const experimentTable = defineResult({ kind: 'refusal-workbench/experiment-table', version: 1, title: 'experiment table', schema: ExperimentTableSchema, migrations: {} });
export const dashboardIndex = defineResult({ kind: DASHBOARD_INDEX_KIND, version: 1, title: 'feature dashboard index', schema: DashboardIndexSchema, migrations: {} });
export const dashboardFeature = defineResult({ kind: DASHBOARD_FEATURE_KIND, version: 1, title: 'feature dashboard', schema: DashboardFeatureFileSchema, migrations: {} });

export const RESULT_DEFS: readonly ResultDef[] = [
  discoveryResults,
  featureGraph,
  experimentTable,
  categoriesResults,
  probeReport,
  playgroundFile,
  preflightFile,
  featureDetailFile,
  dashboardIndex,
  dashboardFeature,
  runManifest,
];

export function resultDef(kind: string): ResultDef | undefined {
  return RESULT_DEFS.find((d) => d.kind === kind);
}

export * from './versioned.js';
export { categoriesResults, type CategoriesResultsFile } from './categories.js';
export { discoveryResults, type DiscoveryResultsFile } from './discovery.js';
export { featureGraph, type FeatureGraphFile } from './graph.js';
export { featureDetailFile, playgroundFile, preflightFile, type StoredFeatureDetail } from './job-files.js';
export { runManifest, type RunManifest } from './manifest.js';
export { probeReport, type ProbeRunResult } from './probe-report.js';
