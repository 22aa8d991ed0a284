/** Refusal-feature discovery (issue 5) and the memory shortcuts (issue 10): public surface. */
export * from './types.js';
export { leftPad, chunks, positionMask, rng, type PaddedBatch } from './batch.js';
export { encodePrompts, firstTokens, filterByFirstToken } from './data.js';
export { refusalDirection, meanLastResid, layerSweep, type DirectionResult, type LayerSweepRow } from './direction.js';
export { ablationHooks, actAddHook, prepareClamp, type ClampEdit, type ClampPositions, type ClampOptions, type PreparedClamp } from './hooks.js';
export { cosinePool, type PoolResult } from './pool.js';
export { laIg, alphaSchedule, type LaIgParams, type AttributionResult, type SampleAttribution, type AlphaPoint } from './attribution.js';
export { selectFeatures, selectAp, randomControl, actDiff, type Scored } from './selection.js';
export {
  generateUnder, refusalRate, substringJudge, stopTokens, REFUSAL_SUBSTRINGS,
  type Condition, type Generation, type GenerateParams, type RefusalJudge, type BatchStore,
} from './generate.js';
export { ceLoss, type CeItem } from './sideeffects.js';
export { buildGraph, nodeActivations, upwardEdgeCount, toNeuronpediaGraph, nodeId, type FeatureGraph, type GraphNode, type GraphEdge, type GraphParams } from './graph.js';
export { pairDrops, suffixDampening, featureMeans, relativeDrop, mechanismOnPairs, type PairMeasure, type MechanismSummary } from './jailbreak.js';
export { planMemory, pickBatchSize, formatBytes, backendCapBytes, type MemoryInputs, type MemoryPlan } from './memory.js';
export { RunDir, writeJsonAtomic, readJson, sha256File, sha256Text } from './runs.js';
export { discover, DiscoveryParamsSchema, METHOD_KEYS, reviveAttribution, type DiscoveryParams, type DiscoveryParamsInput, type DiscoveryResults, type DiscoverySuites, type MethodKey } from './pipeline.js';
export { runPipelineFile, readPipeline, loadSuitePrompts, PipelineSchema, tempProject, type Pipeline, type RunOutcome } from './project.js';
export { codecFromTokenizer, providerFromSaeSet, makeLens, deriveSkipPrefix, type TokenizerLike } from './lens.js';
export { encodeDiff, decodeDiff, sparseSlice, sparseEncode, stopGradient, stopGradientOf, decoderCosines, type SparseSlice } from './sae-math.js';
export { inducedRefusalSweep, type InduceRow } from './induce.js';
