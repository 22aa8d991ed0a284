/**
 * project.json — the root of a project folder.
 *
 * Every file we write carries `{kind, schemaVersion}`. Old versions are upgraded by the small
 * migration functions in main/projects/migrations.ts, tested against frozen files in
 * tests/shell/fixtures/.
 */
import { z } from 'zod';

export const PROJECT_KIND = 'refusal-workbench/project' as const;
export const PROJECT_SCHEMA_VERSION = 2 as const;

export const SourceSchema = z.object({
  /** What the source is: a Hugging Face model folder, an SAE file/folder, a prompt suite, the bundled demo. */
  type: z.enum(['model', 'sae', 'suite', 'demo', 'other']),
  /** Path relative to the project folder when inside it, absolute otherwise (user-chosen files). */
  path: z.string(),
  label: z.string().optional(),
});
export type Source = z.infer<typeof SourceSchema>;

export const ProjectSettingsSchema = z
  .object({
    backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto'),
    seed: z.number().int().default(0),
  })
  .catchall(z.unknown());
export type ProjectSettings = z.infer<typeof ProjectSettingsSchema>;

export const ProjectFileSchema = z.object({
  kind: z.literal(PROJECT_KIND),
  schemaVersion: z.literal(PROJECT_SCHEMA_VERSION),
  name: z.string().min(1),
  createdAt: z.string(),
  sources: z.array(SourceSchema).default([]),
  settings: ProjectSettingsSchema.default({ backend: 'auto', seed: 0 }),
});
export type ProjectFile = z.infer<typeof ProjectFileSchema>;
