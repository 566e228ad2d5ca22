// Lint for Slipway's own code. (The code-scanning step has its own, separate rule set.)
import tseslint from 'typescript-eslint';

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
);
