// @vitest-environment jsdom
/**
 * The frame against the real core through an in-process transport: project name in the top bar, rail
 * navigation and keyboard, empty states, job drawer with progress and cancel, error toasts.
 */
import { describe, expect, it, beforeAll, afterAll, afterEach } from 'vitest';
import { render, screen, fireEvent, waitFor, cleanup, within } from '@testing-library/react';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiError, createApiClient, type WorkbenchApi } from '../../../common/api';
import { WorkbenchCore } from '../../../main/server/core';
import { Settings } from '../../../main/settings/settings';
import { App } from './App';

let dir: string;
let core: WorkbenchCore;
let api: WorkbenchApi;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-app-'));
  core = new WorkbenchCore({ settings: Settings.open(path.join(dir, 'cfg')), shell: 'test', projectsDir: dir, queueOptions: { testSteps: true } });
  api = createApiClient({
    kind: 'direct',
    async invoke(method, req) {
      const r = await core.dispatch(method, req);
      if (r.ok) return r.result;
      throw new ApiError(r.error);
    },
    subscribe(l) {
      core.on('event', l);
      return () => core.off('event', l);
    },
  });
  await api.projects.create({ dir: path.join(dir, 'study'), name: 'Study' });
});
afterEach(() => cleanup());
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('App frame', () => {
  it('shows the project, navigates by rail and keyboard, with empty states', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('Study'));
    expect(screen.getByTestId('backend').textContent).toContain('test');
    fireEvent.click(screen.getByTestId('nav-graph'));
    expect(screen.getByTestId('section-graph')).toBeTruthy();
    expect(screen.getByTestId('empty-state').textContent).toMatch(/No graph yet/);
    fireEvent.keyDown(window, { key: 'f' });
    expect(screen.getByTestId('section-features')).toBeTruthy();
    expect(location.hash).toBe('#/features');
    window.dispatchEvent(new CustomEvent('workbench:navigate', { detail: { view: 'runs' } }));
    await waitFor(() => expect(screen.getByTestId('section-runs')).toBeTruthy());
  });

  it('mounts views by section id and adds extra ones to the rail', async () => {
    const views = { graph: () => <p>graph view here</p>, categories: () => <p>categories here</p> };
    render(<App api={api} views={views} />);
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('Study'));
    fireEvent.click(screen.getByTestId('nav-graph'));
    expect(screen.getByText('graph view here')).toBeTruthy();
    fireEvent.click(screen.getByTestId('nav-categories'));
    expect(screen.getByText('categories here')).toBeTruthy();
  });

  it('job drawer: start, progress, cancel; errors become toasts', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(screen.getByTestId('project-name').textContent).toBe('Study'));
    fireEvent.click(screen.getByTestId('job-indicator'));
    const drawer = screen.getByTestId('job-drawer');
    expect(within(drawer).getByTestId('no-jobs')).toBeTruthy();
    await waitFor(() => expect(within(drawer).getAllByRole('option').length).toBeGreaterThan(0));
    fireEvent.change(within(drawer).getByTestId('step-select'), { target: { value: 'demo.count' } });
    fireEvent.change(within(drawer).getByTestId('step-params'), { target: { value: '{"n": 500, "ms": 50}' } });
    fireEvent.click(within(drawer).getByTestId('start-job'));
    await waitFor(() => expect(Number(screen.getByTestId('job-progress').getAttribute('aria-valuenow'))).toBeGreaterThan(0), { timeout: 15_000 });
    expect(screen.getByTestId('job-indicator').textContent).toBe('1 job running');
    fireEvent.click(screen.getByTestId('job-cancel'));
    await waitFor(() => expect(screen.getByTestId('job').getAttribute('data-status')).toBe('cancelled'), { timeout: 5_000 });
    expect(screen.getByTestId('job-indicator').textContent).toBe('Jobs');

    fireEvent.change(within(drawer).getByTestId('step-params'), { target: { value: '{not json' } });
    fireEvent.click(within(drawer).getByTestId('start-job'));
    await waitFor(() => expect(screen.getByTestId('toast').textContent).toMatch(/must be JSON/));
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('job-drawer')).toBeNull();
  });
});
