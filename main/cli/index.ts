/** `npx refusal-workbench <command>`: one entry point, one module per command family. */
import { FileFormatError, MemoryLimitError, UnsupportedError } from '../../workers/engine/errors.js';
import { UsageError } from './args.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { help: string; load: () => Promise<Command> }> = {
  forward: { help: 'forward --model DIR --input IDS.json --out DIR', load: async () => (await import('./engine-commands.js')).forwardCommand },
  generate: { help: 'generate --model DIR (--input IDS.json | --prompt "text" [--chat]) --max-new-tokens N [--json]', load: async () => (await import('./engine-commands.js')).generateCommand },
  info: { help: 'info --model DIR [--json]', load: async () => (await import('./engine-commands.js')).infoCommand },
};

/** Later command families register here (sae, demo, run/discover, probe, categories, serve). */
export function registerCommand(name: string, help: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { help, load };
}

function usage(): string {
  return ['usage: refusal-workbench <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  ${c.help}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  await import('./commands.js');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n  ${cmd.help}\n`);
      return 2;
    }
    if (e instanceof FileFormatError || e instanceof UnsupportedError || e instanceof MemoryLimitError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
