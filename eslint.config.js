import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const SERVICES = ['order', 'payment', 'inventory'];

// Apps never import each other: they share only libs/dist-core (and its message contracts).
const appBoundaries = SERVICES.map((service) => ({
  files: [`apps/${service}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: SERVICES.filter((other) => other !== service).map((other) => ({
          regex: `(^|/)apps/${other}(/|$)|^\\.\\./\\.\\./(\\.\\./)*${other}(/|$)`,
          message: `apps/${service} must not import apps/${other}: share code through libs/dist-core.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '.infra/**', 'coverage/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // The library must not reach into an app, and nothing imports the lib by relative path.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)libs/dist-core/',
              message: 'Import the lib as @app/dist-core/<folder>.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: '(^|/)apps/', message: 'libs/dist-core must not depend on an app.' }],
        },
      ],
    },
  },
  // The /ui page's script runs in the browser, as a module served by the order service.
  {
    files: ['apps/*/src/ui/assets/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  // CommonJS where a tool require()s the file (the Nest CLI's compiler plugins).
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...appBoundaries,
);
