/** The SAE side of the workbench: loaders, the tfjs SAE, lazy layer sets, splices and the fit preflight. */
export * from './types.js';
export { TfSae, activate, encodeSlice, makeSlice, sliceSae, type SaeArrays, type SaeSlice } from './sae.js';
export {
  detectLayout,
  estimateSaeBytes,
  loadSae,
  loadSaeSync,
  openSae,
  registerSaeFormat,
  scanGemmaScopeTree,
  type LoadSaeOptions,
  type SaeLayout,
  type SaeOpener,
  type SaeSource,
  type TreeChoice,
} from './load.js';
export { SaeSet, type SaeSetOptions, type SaeSetSpec } from './set.js';
export {
  clampHook,
  clampHooks,
  editedFeatures,
  spliceHook,
  spliceHooks,
  zeroDeltas,
  type EditPositions,
  type EditSpec,
  type FeatureEdit,
  type SpliceOptions,
} from './splice.js';
export { fitPreflight, fitPreflightSet, type FitOptions, type FitReport } from './preflight.js';
export { formatFeatureId, parseFeatureId, neuronpediaUrl } from './features.js';
export { syntheticGemmaScopeArrays, writeSyntheticGemmaScopeTree, type SyntheticSaeOptions } from './synthetic.js';
