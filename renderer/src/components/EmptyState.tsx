import type { ReactNode } from 'react';

/** An empty state that says what to do next. */
export function EmptyState({ title, hint, children, testId }: { title: string; hint?: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="wb-empty" data-testid={testId ?? 'empty-state'} role="status">
      <p className="wb-empty-title">{title}</p>
      {hint && <p className="wb-empty-hint">{hint}</p>}
      {children && <div className="wb-empty-actions">{children}</div>}
    </div>
  );
}
