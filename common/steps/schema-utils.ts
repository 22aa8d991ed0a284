/** Small zod helpers shared by the step schemas. */
import { z } from 'zod';

/**
 * The same object schema with every default removed and every field optional, nested objects included:
 * an *overrides* schema. (zod's `.partial()` keeps inner defaults, so a partial parse would fill every
 * default in and an override would silently reset the base pipeline's values.)
 */
export function overridesOf<S extends z.ZodRawShape>(schema: z.ZodObject<S>): z.ZodObject<z.ZodRawShape> {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(schema.shape)) shape[k] = stripDefaults(v as z.ZodType).optional();
  return z.object(shape).strict();
}

function stripDefaults(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  while (cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  if (cur instanceof z.ZodObject) return overridesOf(cur as z.ZodObject<z.ZodRawShape>);
  return cur;
}

/** Deep merge of plain objects: `over` wins, arrays and scalars are replaced, `undefined` leaves the base. */
export function mergeDeep<T extends Record<string, unknown>>(base: T, over: Record<string, unknown> | undefined): T {
  if (!over) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? mergeDeep(b, v) : v;
  }
  return out as T;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `a.b: message; c: message` — the paths of a zod error, for messages that name the field. */
export function formatIssues(err: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  return err.issues.map((i) => `${[...prefix, ...i.path].map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}
