/** Errors a user can cause while working with project folders; each names the file involved. */

export class PathOutsideProjectError extends Error {
  readonly code = 'PATH_OUTSIDE_PROJECT';
  constructor(readonly path: string, readonly projectDir: string) {
    super(`${path}: refused, the path is outside the project folder ${projectDir}`);
    this.name = 'PathOutsideProjectError';
  }
}

export class CorruptFileError extends Error {
  readonly code = 'CORRUPT_FILE';
  constructor(readonly path: string, readonly problem: string, readonly backupPath?: string) {
    super(`${path}: ${problem}${backupPath ? ` (last good copy kept at ${backupPath})` : ''}`);
    this.name = 'CorruptFileError';
  }
}

export class NotAProjectError extends Error {
  readonly code = 'NOT_A_PROJECT';
  constructor(readonly path: string, problem = 'no project.json here — choose a project folder or create a new project') {
    super(`${path}: ${problem}`);
    this.name = 'NotAProjectError';
  }
}

export class UnsupportedVersionError extends Error {
  readonly code = 'UNSUPPORTED_VERSION';
  constructor(readonly path: string, found: unknown, newest: number) {
    super(`${path}: schemaVersion ${String(found)} is newer than this app understands (≤ ${newest}); update the workbench`);
    this.name = 'UnsupportedVersionError';
  }
}

export class NoProjectOpenError extends Error {
  readonly code = 'NO_PROJECT';
  constructor() {
    super('no project is open — open or create a project first');
    this.name = 'NoProjectOpenError';
  }
}
