/**
 * runs/<id>/manifest.json: the one run manifest (common/schemas/run.ts declares it; every step and the job
 * queue write it, the renderer reads it with this reader).
 */
import { RUN_KIND, RUN_SCHEMA_VERSION, RunManifestSchema } from '../schemas/run.js';
import { defineResult } from './versioned.js';

export { RunManifestSchema, type RunManifest } from '../schemas/run.js';

export const runManifest = defineResult({ kind: RUN_KIND, version: RUN_SCHEMA_VERSION, title: 'run manifest', schema: RunManifestSchema, migrations: {} });
