// Lint for Slipway's own code. (The code-scanning step has its own, separate rule set.)
// Besides style, it keeps the house's import directions (docs/design.md §2): each folder names the
// folders it must never import, so an arrow against the layering fails `npm run lint`.
import tseslint from 'typescript-eslint';

/** Relative imports that reach into one of `folders` (any depth of ../). */
const into = (...folders) => `^(\\.\\./)+(${folders.join('|')})/`;

/** The composition root and the server, seen from `depth` folders below src/. */
const roots = (depth) => ({
  regex: `^${'\\.\\./'.repeat(depth)}(app|server)\\.ts$`,
  allowTypeImports: true,
  message: 'only entry points (src/server.ts, src/cli) compose Slipway; elsewhere take its type or what you need',
});

/** no-restricted-imports for the files of `folder`: never `folders`, never the roots' values. */
function layer(folder, folders, why) {
  // One block per depth, so that `../server.ts` means src/server.ts and not api/server.ts.
  return [1, 2, 3].map((depth) => ({
    files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...(folders.length ? [{ regex: into(...folders), message: `${folder}/ ${why}` }] : []),
          roots(depth),
        ],
      }],
    },
  }));
}

const ABOVE_ENGINE = ['api', 'cli', 'web', 'triggers', 'demo'];

export default tseslint.config(
  { ignores: ['node_modules', '.slipway', 'examples', 'src/web/static/vendor'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    // A promise nobody awaits loses its error: mark the deliberate ones with `void`.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^\\.\\./', message: 'domain/ is pure: it imports nothing but itself' },
          { regex: '^node:', message: 'domain/ is pure: no I/O, no clock, no randomness (inject them)' },
        ],
      }],
    },
  },
  ...layer('store', ['engine', 'steps', 'runner', 'topology', 'artifacts', 'events', ...ABOVE_ENGINE], 'imports domain only'),
  ...layer('runner', ['engine', 'steps', 'store', 'topology', 'artifacts', 'events', ...ABOVE_ENGINE], 'sits below the steps and the store'),
  ...layer('artifacts', ['engine', 'steps', 'store', 'topology', 'events', ...ABOVE_ENGINE], 'sits below the steps and the store'),
  ...layer('topology', ['engine', 'steps', 'store', 'events', ...ABOVE_ENGINE], 'is run by the steps; it never reads the store'),
  ...layer('steps', ['engine', 'store', 'events', ...ABOVE_ENGINE], 'get a StepContext, never the store'),
  ...layer('events', ['engine', 'steps', 'runner', 'topology', ...ABOVE_ENGINE], 'carries what the engine announces'),
  ...layer('engine', ABOVE_ENGINE, 'is driven by the API, the CLI and the triggers, never the other way'),
  ...layer('triggers', ['api', 'cli', 'web', 'demo'], 'start executions through the engine\'s commands'),
  ...layer('api', ['cli', 'demo'], 'serves; the CLI is its client'),
  ...layer('demo', ['api', 'cli', 'web'], 'seeds through the engine\'s commands'),
);
