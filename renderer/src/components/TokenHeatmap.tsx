import { useState } from 'react';
import { fmt } from '../export/format';

/** Colour for an activation relative to the max: transparent → warm. Negative values go blue. */
export function heatColor(v: number, max: number): string {
  if (!(max > 0) || v === 0) return 'transparent';
  const a = Math.min(1, Math.abs(v) / max);
  return v > 0 ? `rgba(232, 89, 12, ${(0.12 + 0.78 * a).toFixed(3)})` : `rgba(28, 126, 214, ${(0.12 + 0.78 * a).toFixed(3)})`;
}

/** Tokens with per-token activations as a heatmap; hovering a token shows its activation. */
export function TokenHeatmap({ tokens, acts, max, testId }: { tokens: string[]; acts: number[]; max?: number; testId?: string }) {
  const m = max ?? Math.max(0, ...acts.map(Math.abs));
  const [hover, setHover] = useState<number | null>(null);
  return (
    <div className="wb-tokens" data-testid={testId ?? 'token-heatmap'}>
      {tokens.map((t, i) => (
        <span
          key={i}
          className="wb-token"
          style={{ background: heatColor(acts[i] ?? 0, m) }}
          title={`${JSON.stringify(t)} · ${fmt(acts[i] ?? 0, 3)}`}
          onMouseEnter={() => setHover(i)}
          onMouseLeave={() => setHover(null)}
        >
          {t.replace(/\n/g, '⏎')}
        </span>
      ))}
      <span className="wb-token-readout" aria-live="polite">
        {hover !== null ? `${JSON.stringify(tokens[hover])} = ${fmt(acts[hover] ?? 0, 3)}` : '\u00a0'}
      </span>
    </div>
  );
}
