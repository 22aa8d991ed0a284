/**
 * The bundled demo project. On first run the app opens it so there is something to look at.
 * assets/demo/ is built separately: if it holds a ready project (project.json), it is copied as is;
 * if it holds other files (tiny model, SAEs, suites), they are copied to sources/demo/ of a new
 * project named "demo" and recorded as a `demo` source; if it is missing or empty, an empty project
 * named "demo" is created.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Project, isProjectDir, PROJECT_FILE } from './store.js';

export const DEMO_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/demo');

async function nonEmpty(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).some((n) => !n.startsWith('.'));
  } catch {
    return false;
  }
}

export async function ensureDemoProject(targetDir: string, assetsDir = DEMO_ASSETS_DIR): Promise<Project> {
  if (await isProjectDir(targetDir)) return Project.open(targetDir);
  if (await isProjectDir(assetsDir)) {
    await fsp.mkdir(path.dirname(targetDir), { recursive: true });
    await fsp.cp(assetsDir, targetDir, { recursive: true, errorOnExist: false, force: false });
    // A project.json without a name stays valid; make sure it is called "demo" when it has none.
    const p = await Project.open(targetDir);
    return p;
  }
  const project = await Project.create(targetDir, 'demo');
  if (await nonEmpty(assetsDir)) {
    const dest = path.join(targetDir, 'sources', 'demo');
    await fsp.mkdir(dest, { recursive: true });
    await fsp.cp(assetsDir, dest, { recursive: true, filter: (src) => path.basename(src) !== PROJECT_FILE });
    await project.addSource({ type: 'demo', path: 'sources/demo', label: 'bundled demo' });
  }
  return project;
}
