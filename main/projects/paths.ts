/** Path inputs from the UI are relative to the project folder; anything resolving outside it is refused. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PathOutsideProjectError } from './errors.js';

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && !rel.split(path.sep).includes('..'));
}

/** Resolve the deepest existing ancestor through symlinks, then re-append the rest. */
function realpathLoose(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * Resolve `input` (relative to the project, or absolute) and return the absolute path, or throw
 * PathOutsideProjectError if it — or any symlink on the way — leads outside `projectDir`.
 */
export function resolveInsideProject(projectDir: string, input: string): string {
  if (typeof input !== 'string' || input.length === 0 || input.includes('\0')) {
    throw new PathOutsideProjectError(String(input), projectDir);
  }
  const root = path.resolve(projectDir);
  const abs = path.resolve(root, input);
  if (!isInside(root, abs)) throw new PathOutsideProjectError(input, root);
  const realRoot = realpathLoose(root);
  const realAbs = realpathLoose(abs);
  if (!isInside(realRoot, realAbs)) throw new PathOutsideProjectError(input, root);
  return abs;
}

export function toProjectRelative(projectDir: string, abs: string): string {
  return path.relative(path.resolve(projectDir), abs).split(path.sep).join('/');
}
