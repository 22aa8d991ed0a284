export * from './logreg.js';
export * from './metrics.js';
export * from './standardize.js';
export * from './train.js';
export * from './report.js';
export * from './data.js';
export * from './run.js';
// Model-side (tfjs, no node modules): masked probe inputs and the probe pipeline. The project runner
// (runs/<id>/, node:fs) is workers/probes/project.ts; report file I/O is report-files.ts.
export * from './activations.js';
export * from './pipeline.js';
