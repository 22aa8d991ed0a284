export * from './logreg.js';
export * from './metrics.js';
export * from './standardize.js';
export * from './train.js';
export * from './report.js';
export * from './data.js';
export * from './run.js';
