// ESLint flat config. Two jobs: keep the layers apart (the import rules below are the architecture, not
// style), and keep `any` out of the code. Formatting is Prettier's job (eslint-config-prettier switches
// off every stylistic rule that would fight it). Syntax-only rules: no type-aware linting, so the whole
// tree lints in seconds on two cores (`npm run lint` also caches in node_modules/.cache/eslint).
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import prettier from 'eslint-config-prettier';

const TS = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];
const JS = ['**/*.js', '**/*.mjs', '**/*.cjs'];

// Import patterns (gitignore syntax, matched against the import string as written). Our layers sit at
// the repository root, so a relative import that climbs into one ends in `…/<layer>/…`.
const layer = (name) => [`**/${name}`, `**/${name}/**`];
const ELECTRON = ['electron', 'electron/*'];
const REACT = ['react', 'react/*', 'react-dom', 'react-dom/*'];

/** One `no-restricted-imports` setting from a list of {group, message}: ESLint keeps only the last
 *  setting of a rule per file, so each folder states its whole list here rather than adding to a parent's. */
const restrict = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  {
    // Lint the sources only. Fixtures are data (some deliberately broken), assets and build outputs are
    // not ours to lint, test-artifacts are generated.
    ignores: [
      '**/node_modules/**',
      'dist/**',
      'dist-electron/**',
      'renderer/dist/**',
      'out/**',
      'test-artifacts/**',
      '.tmp/**',
      'assets/**',
      'tests/fixtures/**',
      'tests/lint/fixtures/**',
      '**/*.d.ts',
    ],
  },
  {
    files: [...TS, ...JS],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'react-hooks': reactHooks },
    rules: {
      // "No `any` at boundaries": an error everywhere, so it cannot creep into an exported signature.
      // The few places where a library really is untyped say so with a commented disable.
      '@typescript-eslint/no-explicit-any': 'error',
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },

  {
    // Tests have no module boundaries; mocks of Electron, fetch and the like are typed loosely on purpose.
    files: ['tests/**', 'e2e/**', '**/*.test.ts', '**/*.test.tsx'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // ---- Layers -------------------------------------------------------------------------------------
  {
    // common/ is the contract both sides share: it depends on nothing of ours but itself (zod is fine).
    files: ['common/**'],
    rules: {
      'no-restricted-imports': restrict(
        {
          group: [...layer('renderer'), ...layer('workers'), ...layer('main'), ...layer('bench'), ...layer('scripts'), ...layer('tests')],
          message: 'common/ depends on nothing of ours but common/.',
        },
        { group: [...ELECTRON, ...REACT], message: 'common/ runs in every process: no electron, no react.' },
      ),
    },
  },
  {
    // workers/ is the compute library: it runs in worker threads and the CLI, never under Electron or React.
    files: ['workers/**'],
    rules: {
      'no-restricted-imports': restrict(
        {
          group: [...layer('renderer'), ...layer('main')],
          message: 'workers/ (the compute library) must not import main/ or renderer/: pass what it needs in.',
        },
        { group: [...ELECTRON, ...REACT], message: 'workers/ runs outside Electron and React.' },
      ),
    },
  },
  {
    // The renderer talks to the core only through the typed API: it imports common/ and itself.
    files: ['renderer/**'],
    ignores: ['renderer/**/*.test.ts', 'renderer/**/*.test.tsx'],
    rules: {
      'no-restricted-imports': restrict(
        {
          group: [...layer('workers'), ...layer('main'), ...layer('bench'), ...layer('scripts'), ...layer('tests')],
          message: 'renderer/ imports only common/ and itself; compute is reached through the API.',
        },
        { group: [...ELECTRON, 'node:*'], message: 'renderer/ runs sandboxed: no electron, no Node built-ins (the preload exposes the API).' },
      ),
    },
  },
  {
    // Job steps are thin adapters from the job queue to the compute library; they must not reach into the CLI.
    files: ['main/jobs/builtin/**'],
    rules: {
      'no-restricted-imports': restrict(
        { group: [...layer('cli')], message: 'Job steps never import main/cli: call the shared use-case layer instead.' },
        { group: [...layer('renderer')], message: 'main/ never imports the renderer.' },
      ),
    },
  },
  {
    // TEMPORARY, until the use-case layer (issue 14, the wt14c branch) lands: these two steps still call
    // into main/cli. Remove this block on merge; the rule above then holds for every step.
    files: ['main/jobs/builtin/probes.ts', 'main/jobs/builtin/refusal.ts'],
    rules: {
      'no-restricted-imports': restrict({ group: [...layer('renderer')], message: 'main/ never imports the renderer.' }),
    },
  },
  {
    files: ['main/**'],
    ignores: ['main/jobs/builtin/**'],
    rules: {
      'no-restricted-imports': restrict({ group: [...layer('renderer')], message: 'main/ never imports the renderer (it serves renderer/dist as files).' }),
    },
  },

  prettier,
);
