/**
 * Chat templates under a budget. A template comes from a downloaded model folder (tokenizer_config.json or
 * chat_template.jinja) and is a program: `range(1e9)` exhausts the heap, nested loops or an exponential
 * macro never finish. So templates are compiled and rendered by @huggingface/jinja in a worker thread with
 * a heap limit, and the caller waits synchronously (Atomics.wait, so `formatChat` stays a plain function)
 * with a wall-clock limit; output is capped. Over budget, the worker is terminated (a fresh one serves the
 * next call) and the error names the template's file. Real templates render in well under a millisecond
 * of work, so the budget is far above them.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { FileFormatError } from '../engine/errors.js';

export interface TemplateBudget {
  /** Wall-clock limit for one render (default 3000 ms). */
  timeoutMs?: number;
  /** Largest rendered prompt, in characters (default 4 Mi). */
  maxOutputChars?: number;
  /** Heap of the rendering thread, in MiB (default 192). */
  maxHeapMb?: number;
}

export const DEFAULT_TEMPLATE_BUDGET: Required<TemplateBudget> = { timeoutMs: 3000, maxOutputChars: 4 * 1024 * 1024, maxHeapMb: 192 };

/** Raised when a template is over budget or fails; `file` is the template's file. */
export class TemplateBudgetError extends FileFormatError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'TemplateBudgetError';
  }
}

type Reply = { ok: true; value: string } | { ok: false; kind: 'error' | 'output' | 'memory'; message: string };

/** Worker start-up (loading the jinja module on a loaded machine) is not charged to the render budget. */
const STARTUP_MS = 30_000;

class RenderThread {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private ready = false;
  dead = false;

  constructor(readonly heapMb: number) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./chat-template-worker.mjs', import.meta.url), {
      workerData: { shared: this.shared, port: port2 },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    // Never keep the process alive for an idle renderer; a dying worker is handled by the caller's wait.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => {
      this.dead = true;
    });
    this.worker.on('exit', () => {
      this.dead = true;
    });
  }

  call(msg: { op: 'compile' | 'render'; source: string; context?: unknown; maxOutputChars: number }, timeoutMs: number): Reply | 'timeout' | 'died' {
    if (!this.ready) {
      if (Atomics.wait(this.shared, 1, 0, STARTUP_MS) === 'timed-out' && Atomics.load(this.shared, 1) === 0) return 'died';
      this.ready = true;
    }
    Atomics.store(this.shared, 0, 0);
    this.port.postMessage(msg);
    const r = Atomics.wait(this.shared, 0, 0, timeoutMs);
    const got = receiveMessageOnPort(this.port);
    if (got) return got.message as Reply;
    return r === 'timed-out' ? 'timeout' : 'died';
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate();
  }
}

let thread: RenderThread | null = null;

function renderThread(heapMb: number): RenderThread {
  if (!thread || thread.dead || thread.heapMb !== heapMb) {
    thread?.kill();
    thread = new RenderThread(heapMb);
  }
  return thread;
}

/** A chat template from `file`, compiled and rendered under `budget`. */
export class BoundedTemplate {
  private readonly budget: Required<TemplateBudget>;

  constructor(
    readonly source: string,
    readonly file: string,
    budget: TemplateBudget = {},
  ) {
    this.budget = { ...DEFAULT_TEMPLATE_BUDGET, ...budget };
    if (source.length > this.budget.maxOutputChars) {
      throw new TemplateBudgetError(file, `chat template is ${source.length} characters long, above the ${this.budget.maxOutputChars} limit`);
    }
    this.run('compile', undefined);
  }

  render(context: Record<string, unknown>): string {
    return this.run('render', context);
  }

  private run(op: 'compile' | 'render', context: unknown): string {
    const { timeoutMs, maxOutputChars, maxHeapMb } = this.budget;
    const t = renderThread(maxHeapMb);
    let r: Reply | 'timeout' | 'died';
    try {
      r = t.call({ op, source: this.source, context, maxOutputChars }, timeoutMs);
    } catch (e) {
      // e.g. a context that cannot be cloned
      throw new TemplateBudgetError(this.file, `chat template cannot be rendered (${(e as Error).message})`);
    }
    const what = op === 'compile' ? 'compiling the chat template' : 'rendering the chat template';
    if (r === 'timeout') {
      t.kill();
      throw new TemplateBudgetError(this.file, `${what} took longer than ${timeoutMs} ms (unbounded loop or exponential macro?); refused`);
    }
    if (r === 'died') {
      t.kill();
      throw new TemplateBudgetError(this.file, `${what} exhausted its ${maxHeapMb} MiB memory budget (e.g. a huge range() or join); refused`);
    }
    if (r.ok) return r.value;
    if (r.kind === 'output') throw new TemplateBudgetError(this.file, `chat template output too large: ${r.message}`);
    if (r.kind === 'memory') throw new TemplateBudgetError(this.file, `${what} ran out of its memory budget (${r.message})`);
    throw new TemplateBudgetError(this.file, `${op === 'compile' ? 'invalid chat template' : 'chat template failed'}: ${r.message}`);
  }
}
