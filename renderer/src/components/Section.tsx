import type { ReactNode } from 'react';

export function ViewHeader({ title, children, testId }: { title: ReactNode; children?: ReactNode; testId?: string }) {
  return (
    <header className="wb-view-header" data-testid={testId}>
      <h1>{title}</h1>
      {children && <div className="wb-view-actions">{children}</div>}
    </header>
  );
}

export function Card({ title, children, testId, actions }: { title: ReactNode; children: ReactNode; testId?: string; actions?: ReactNode }) {
  return (
    <section className="wb-card" data-testid={testId}>
      <header className="wb-card-header">
        <h2>{title}</h2>
        {actions && <div className="wb-card-actions">{actions}</div>}
      </header>
      <div className="wb-card-body">{children}</div>
    </section>
  );
}

export function ErrorLine({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <p className="wb-error" role="alert">
      {error}
    </p>
  );
}
