/** A progress bar; indeterminate when `value` is undefined. */
export function ProgressBar({ value, label, testId }: { value?: number; label?: string; testId?: string }) {
  const pct = value === undefined ? undefined : Math.max(0, Math.min(1, value)) * 100;
  return (
    <div className="wb-progress" data-testid={testId ?? 'progress'}>
      {label && <span className="wb-progress-label">{label}</span>}
      <div
        className={`wb-progress-track${pct === undefined ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-label={label ?? 'progress'}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct === undefined ? undefined : Math.round(pct)}
      >
        <div className="wb-progress-fill" style={pct === undefined ? undefined : { width: `${pct}%` }} />
      </div>
      {pct !== undefined && <span className="wb-progress-pct">{Math.round(pct)}%</span>}
    </div>
  );
}
