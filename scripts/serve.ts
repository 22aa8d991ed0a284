// `npm run serve`: the headless server (see main/server/cli.ts for the options).
import { parseServeArgs, serve } from '../main/server/cli.js';
import { isLoopbackHost } from '../main/server/server.js';

const { server, core } = await serve(parseServeArgs(process.argv.slice(2)));
const p = core.currentProject();
if (!isLoopbackHost(server.host)) {
  console.warn(`WARNING: listening on ${server.host} — anyone who can reach it and has the token can run jobs and read project files.`);
}
console.log(`Refusal Workbench (headless) — project: ${p ? `${p.name} (${p.dir})` : 'none'}`);
console.log(`Open: ${server.urlWithToken}`);
const stop = async () => {
  await server.close();
  await core.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
