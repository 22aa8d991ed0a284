import { useRef, useState, type ReactNode } from 'react';
import type { WorkbenchApi } from '../../../../common/api';
import { toViewApi } from '../api';
import type { ExportManifest } from '../../export/manifest';
import { Card } from '../../components/Section';
import { saveExport, pngWithManifest } from '../../export/save';
import { svgToPng } from '../../export/png';
import { stableStringify } from '../../export/format';
import { toCsv, type Column } from '../../export/table';

/** The chart's rendered <svg> as a standalone file (exactly what is on screen), the manifest as <metadata>. */
export function chartSvg(root: HTMLElement | null, manifest: ExportManifest): string {
  // the chart's own surface, not a legend icon (those are svg.recharts-surface too)
  const svg = root?.querySelector('.recharts-wrapper > svg') ?? root?.querySelector('svg');
  if (!svg) throw new Error('no chart on screen to export');
  const c = svg.cloneNode(true) as SVGSVGElement;
  const w = Number(svg.getAttribute('width')) || 600;
  const h = Number(svg.getAttribute('height')) || 300;
  c.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  c.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const meta = `<metadata id="run-manifest"><![CDATA[${stableStringify(manifest).replace(/]]>/g, ']]]]><![CDATA[>')}]]></metadata>`;
  return c.outerHTML.replace(/^<svg([^>]*)>/, `<svg$1>${meta}`);
}

/** A card holding one chart or table, with PNG / SVG / CSV export and an empty state naming what produces it. */
export function ChartCard<T>(p: {
  api: WorkbenchApi;
  title: string;
  testId: string;
  name: string;
  manifest: ExportManifest;
  rows: T[];
  columns: Column<T>[];
  empty: string;
  chart?: boolean;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [msg, setMsg] = useState<string>();
  const view = toViewApi(p.api);
  const save = async (file: string, data: () => Promise<string | Uint8Array> | string | Uint8Array) => {
    try {
      setMsg(`Saved ${await saveExport(view, file, await data())}`);
    } catch (e) {
      setMsg(`Export failed: ${(e as Error).message}`);
    }
  };
  const actions = p.rows.length ? (
    <>
      {p.chart !== false && (
        <>
          <button data-testid={`${p.testId}-png`} onClick={() => save(`${p.name}.png`, async () => pngWithManifest(await svgToPng(chartSvg(ref.current, p.manifest)), p.manifest))}>PNG</button>
          <button data-testid={`${p.testId}-svg`} onClick={() => save(`${p.name}.svg`, () => chartSvg(ref.current, p.manifest))}>SVG</button>
        </>
      )}
      <button data-testid={`${p.testId}-csv`} onClick={() => save(`${p.name}.csv`, () => toCsv(p.rows, p.columns, p.manifest))}>CSV</button>
    </>
  ) : undefined;
  return (
    <Card title={p.title} testId={p.testId} actions={actions}>
      {p.rows.length ? <div ref={ref}>{p.children}</div> : <p className="wb-muted" data-testid={`${p.testId}-empty`}>{p.empty}</p>}
      {msg && <p className="wb-muted" data-testid={`${p.testId}-saved`}>{msg}</p>}
    </Card>
  );
}
