import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestSchemas } from '../../common/api.js';
import { Project } from '../../main/projects/store.js';

describe('binary exports through the API', () => {
  it('files.writeBase64 validates base64 and writes the bytes atomically inside the project', async () => {
    expect(requestSchemas['files.writeBase64'].safeParse({ path: 'exports/a.png', base64: 'iVBORw0KGgo=' }).success).toBe(true);
    expect(requestSchemas['files.writeBase64'].safeParse({ path: 'exports/a.png', base64: 'not base64!' }).success).toBe(false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-b64-'));
    const store = await Project.create(dir, 'b64');
    const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255]);
    const rel = await store.writeText('exports/fig.png', Buffer.from(Buffer.from(bytes).toString('base64'), 'base64'));
    expect(rel).toBe('exports/fig.png');
    expect([...fs.readFileSync(path.join(dir, rel))]).toEqual([...bytes]);
    await expect(store.writeText('../outside.png', Buffer.from([1]))).rejects.toThrow();
  });
});
