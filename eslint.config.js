// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'runs/', 'coverage/', 'proto/gen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Services talk through contracts and `common/`, never through each other's internals.
    files: ['evaluator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['../trainer/*', '../../trainer/*', '../coordinator/*', '../../coordinator/*'] },
      ],
    },
  },
  {
    files: ['trainer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['../evaluator/*', '../../evaluator/*', '../coordinator/*', '../../coordinator/*'] },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
