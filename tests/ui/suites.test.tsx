// @vitest-environment jsdom
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { SuitesView, tryImport } from '../../renderer/src/views/suites/SuitesView';
import { fakeProject } from './fixtures/fakeApi';
import { datasetsDir } from '../helpers/fixtures';

afterEach(cleanup);

const datasets = path.join(datasetsDir, 'refusal_direction');

async function importFile(name: string, text: string) {
  const file = new File([text], name);
  await act(async () => {
    fireEvent.change(screen.getByTestId('suite-import-input'), { target: { files: [file] } });
  });
}

describe('Prompt suites view', () => {
  it('lists the stored suite with a preview, category filter and counts', async () => {
    const p = fakeProject();
    render(<SuitesView api={p.api} />);
    expect((await screen.findByTestId('suite-count')).textContent).toContain('4 prompts');
    const filter = screen.getByTestId('suite-category-filter');
    fireEvent.change(filter, { target: { value: 'fraud' } });
    expect(screen.getByTestId('suite-preview').querySelectorAll('tbody tr')).toHaveLength(2);
  });

  it('a bad file is reported with its line number and the problem', async () => {
    const p = fakeProject();
    render(<SuitesView api={p.api} />);
    await screen.findByTestId('suite-count');
    await importFile('bad.jsonl', '{"instruction": "ok"}\n{"instruction": "fine"}\n{"instruction": oops}\n');
    const err = await screen.findByTestId('suite-import-error');
    expect(err.dataset.line).toBe('3');
    expect(screen.getByTestId('suite-import-error-line').textContent).toBe('line 3');
    expect(err.textContent).toMatch(/bad\.jsonl/);
    expect(err.textContent).toMatch(/invalid JSON/);

    await importFile('bad.csv', 'goal,target\n"How to x",Sure\n"unterminated,Sure\n');
    await waitFor(() => expect(screen.getByTestId('suite-import-error').textContent).toMatch(/line 3/));

    await importFile('empty-prompt.json', '[\n  {"instruction": "a", "category": null},\n  {"instruction": "", "category": null}\n]');
    await waitFor(() => expect(screen.getByTestId('suite-import-error').dataset.line).toBe('3'));
  });

  it('imports, tags, splits, edits and saves a suite into the project', async () => {
    const p = fakeProject();
    render(<SuitesView api={p.api} />);
    await screen.findByTestId('suite-count');
    await importFile('mine.txt', 'first prompt\nsecond prompt\n\nthird prompt\n');
    expect(screen.getByTestId('suite-draft')).toBeTruthy();
    expect(screen.getByTestId('suite-count').textContent).toContain('3 prompts');
    fireEvent.click(screen.getByTestId('suite-tag-adversarial'));
    fireEvent.click(screen.getByTestId('suite-split-apply'));
    expect(screen.getByTestId('suite-split-counts').textContent).toMatch(/train \d/);
    const row = screen.getByTestId('suite-row-mine-0');
    fireEvent.doubleClick(within(row).getByText('first prompt'));
    const ta = row.querySelector('textarea')!;
    fireEvent.change(ta, { target: { value: 'edited prompt' } });
    fireEvent.blur(ta);
    expect(within(screen.getByTestId('suite-row-mine-0')).getByText('edited prompt')).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByTestId('suite-save'));
    });
    await screen.findByTestId('suite-saved');
    const saved = JSON.parse(p.files.get('suites/mine.json')!);
    expect(saved.kind).toBe('prompt-suite');
    expect(saved.items).toHaveLength(3);
    expect(saved.items[0]).toMatchObject({ instruction: 'edited prompt', tags: ['adversarial'] });
    expect(saved.items.every((i: { split?: string }) => i.split)).toBe(true);
  });

  it('lists the built-in suites with source, licence and citation; one click imports a copy that records the hash', async () => {
    const p = fakeProject();
    render(<SuitesView api={p.api} />);
    await screen.findByTestId('suite-count');
    const list = await screen.findByTestId('builtin-list');
    await waitFor(() => expect(list.querySelectorAll('li')).toHaveLength(15));
    const hb = screen.getByTestId('builtin-harmbench_test');
    expect(hb.textContent).toMatch(/HarmBench test/);
    expect(hb.textContent).toMatch(/159 · harmful/);

    // details: the name to use in a pipeline, source, licence, citation, hash
    fireEvent.click(within(hb).getByText(/HarmBench test/));
    const detail = await screen.findByTestId('builtin-detail');
    expect(detail.textContent).toMatch(/Built-in/);
    expect(screen.getByTestId('builtin-ref').textContent).toBe('builtin:harmbench_test');
    expect(screen.getByTestId('builtin-source').textContent).toBe('https://github.com/andyrdt/refusal_direction @ 9d852fa · dataset/processed/harmbench_test.json');
    expect(screen.getByTestId('builtin-licence').textContent).toMatch(/MIT/);
    expect(screen.getByTestId('builtin-citation').textContent).toMatch(/@article\{mazeika2024harmbench/);
    expect(screen.getByTestId('builtin-sha256').textContent).toMatch(/^[0-9a-f]{64}$/);
    const sha = screen.getByTestId('builtin-sha256').textContent!;

    // one click from the list: the copy is in the project, opened, and records the built-in's hash
    await act(async () => {
      fireEvent.click(screen.getByTestId('builtin-import-harmbench_test'));
    });
    await waitFor(() => expect(screen.getByTestId('suite-saved').textContent).toMatch(/Imported HarmBench test .* as suites\/builtin-harmbench_test\.json/));
    const copy = JSON.parse(p.files.get('suites/builtin-harmbench_test.json')!);
    expect(copy.builtin).toMatchObject({ name: 'harmbench_test', sha256: sha });
    expect(copy.items).toHaveLength(159);
    expect(screen.getByTestId('suite-count').textContent).toContain('159 prompts');
    expect(screen.getByTestId('suite-builtin').textContent).toBe(`built-in harmbench_test · ${sha.slice(0, 12)}`);
    await waitFor(() => expect(screen.getByTestId('builtin-in-project-harmbench_test').textContent).toBe('in project'));
    expect(screen.queryByTestId('builtin-import-harmbench_test')).toBeNull();

    // editing the copy marks it as derived from that version, not equal to it
    const row = screen.getByTestId('suite-row-harmbench_test-0');
    fireEvent.doubleClick(within(row).getByText(copy.items[0].instruction));
    const ta = row.querySelector('textarea')!;
    fireEvent.change(ta, { target: { value: 'an edited prompt' } });
    fireEvent.blur(ta);
    expect(screen.getByTestId('suite-builtin').textContent).toMatch(/edited since import/);
    await act(async () => {
      fireEvent.click(screen.getByTestId('suite-save'));
    });
    await screen.findByTestId('suite-saved');
    expect(JSON.parse(p.files.get('suites/builtin-harmbench_test.json')!).builtin).toMatchObject({ sha256: sha, modified: true });
  });

  it('imports from the detail pane too', async () => {
    const p = fakeProject();
    render(<SuitesView api={p.api} />);
    fireEvent.click(within(await screen.findByTestId('builtin-advbench')).getByText(/AdvBench/));
    await act(async () => {
      fireEvent.click(await screen.findByTestId('builtin-detail-import'));
    });
    await waitFor(() => expect(screen.getByTestId('suite-count').textContent).toContain('520 prompts'));
    expect(JSON.parse(p.files.get('suites/builtin-advbench.json')!).items[0].tags).toEqual(['harmful']);
  });

  it('imports the real AdvBench and HarmBench CSVs', () => {
    const adv = tryImport(fs.readFileSync(path.join(datasets, 'raw/advbench.csv'), 'utf8'), 'advbench.csv');
    expect(adv.problem).toBeUndefined();
    expect(adv.suite!.items).toHaveLength(520);
    const hb = tryImport(fs.readFileSync(path.join(datasets, 'raw/harmbench_val.csv'), 'utf8'), 'harmbench_val.csv');
    expect(hb.problem).toBeUndefined();
    expect(hb.suite!.items.length).toBeGreaterThan(40);
    expect(hb.suite!.items[0].category).not.toBeNull();
  });

  it('empty state names the formats', async () => {
    const p = fakeProject({ empty: true });
    render(<SuitesView api={p.api} />);
    expect((await screen.findByTestId('suites-empty')).textContent).toMatch(/WildJailbreak/);
  });
});
