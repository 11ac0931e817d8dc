import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const SERVICES = ['order', 'payment', 'inventory'];

// Apps never import each other: they share only libs/dist-core (and its message contracts).
const otherApps = (service) =>
  SERVICES.filter((other) => other !== service).map((other) => ({
    regex: `(^|/)apps/${other}(/|$)|^\\.\\./\\.\\./(\\.\\./)*${other}(/|$)`,
    message: `apps/${service} must not import apps/${other}: share code through libs/dist-core.`,
  }));
const appBoundaries = SERVICES.map((service) => ({
  files: [`apps/${service}/**/*.ts`],
  rules: { 'no-restricted-imports': ['error', { patterns: otherApps(service) }] },
}));

// Inside the order service, layers run one way: api (admin, ui) → flows → orders. (A rule
// replaces the app boundary's for these files, so it repeats those patterns.)
const ORDER_LAYERS = [
  { layer: 'orders', above: ['flows', 'api', 'admin', 'ui'] },
  { layer: 'flows', above: ['api', 'admin', 'ui'] },
];
const orderLayers = ORDER_LAYERS.map(({ layer, above }) => ({
  files: [`apps/order/src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...otherApps('order'),
          {
            regex: `^(\\.\\./)+(${above.join('|')})(/|$)`,
            message: `apps/order/src/${layer} must not import ${above.join(', ')}: layers run api → flows → orders.`,
          },
        ],
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
  ...orderLayers,
);
