// Renders chat templates for workers/model/chat-template.ts inside a resource-limited worker thread.
// Plain JS so it loads without a TypeScript loader. Protocol: a message {op, source, context, maxOutputChars}
// on the port; the reply goes back on the port, then shared[0] is set to 1 and notified, so the caller can
// wait synchronously (Atomics.wait) with a wall-clock limit and terminate this thread when it is exceeded.
import { workerData } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';

const { shared, port } = workerData;
const cache = new Map();

function compiled(source) {
  let t = cache.get(source);
  if (!t) {
    t = new Template(source);
    if (cache.size >= 8) cache.clear();
    cache.set(source, t);
  }
  return t;
}

port.on('message', (msg) => {
  let reply;
  try {
    const t = compiled(msg.source);
    if (msg.op === 'compile') reply = { ok: true, value: '' };
    else {
      const out = t.render(msg.context);
      reply =
        typeof out === 'string' && out.length > msg.maxOutputChars
          ? { ok: false, kind: 'output', message: `rendered ${out.length} characters, above the ${msg.maxOutputChars} limit` }
          : { ok: true, value: String(out) };
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    reply = { ok: false, kind: e instanceof RangeError ? 'memory' : 'error', message: message.slice(0, 2000) };
  }
  port.postMessage(reply);
  Atomics.store(shared, 0, 1);
  Atomics.notify(shared, 0);
});

Atomics.store(shared, 1, 1);
Atomics.notify(shared, 1);
