/**
 * `npm run serve` — start the headless server and print the URL (with its token) to open.
 *
 *   --host <addr>     bind address (default 127.0.0.1; anything else exposes the API deliberately)
 *   --port <n>        port (default 0 = a free one)
 *   --project <dir>   open this project instead of the last one / the demo
 *   --token <t>       use this token (default: random; also $REFUSAL_WORKBENCH_TOKEN)
 *   --static <dir>    serve this built renderer (default renderer/dist)
 */
import * as path from 'node:path';
import { Settings } from '../settings/settings.js';
import { WorkbenchCore } from './core.js';
import { startServer, type RunningServer } from './server.js';

export interface ServeArgs {
  host?: string;
  port?: number;
  project?: string;
  token?: string;
  staticDir?: string;
}

export function parseServeArgs(argv: string[]): ServeArgs {
  const out: ServeArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--host':
        out.host = val();
        break;
      case '--port':
        out.port = Number(val());
        break;
      case '--project':
        out.project = path.resolve(val());
        break;
      case '--token':
        out.token = val();
        break;
      case '--static':
        out.staticDir = path.resolve(val());
        break;
      case '--help':
      case '-h':
        console.log('usage: npm run serve -- [--host 127.0.0.1] [--port 0] [--project DIR] [--token T] [--static DIR]');
        process.exit(0);
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return out;
}

export async function serve(args: ServeArgs): Promise<{ server: RunningServer; core: WorkbenchCore }> {
  const settings = Settings.open();
  const core = new WorkbenchCore({ settings, shell: 'server' });
  if (args.project) await core.openProject(args.project);
  else await core.openStartupProject();
  const server = await startServer({
    core,
    host: args.host,
    port: args.port,
    token: args.token ?? process.env.REFUSAL_WORKBENCH_TOKEN,
    staticDir: args.staticDir,
  });
  return { server, core };
}
