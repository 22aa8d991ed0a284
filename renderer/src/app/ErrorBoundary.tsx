import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode; name: string }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="wb-empty" role="alert">
          <p className="wb-empty-title">The {this.props.name} view failed</p>
          <p className="wb-empty-hint wb-mono">{this.state.error.message}</p>
          <button onClick={() => this.setState({ error: null })}>Try again</button>
        </div>
      );
    }
    return this.props.children;
  }
}
