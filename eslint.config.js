import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const SERVICES = ['order', 'payment', 'inventory'];

// Apps never import each other: they share only libs/dist-core and libs/order-flow-api. A rule
// that names files replaces an earlier one's patterns for them, so each app rule also repeats
// the global one: the lib is imported as @app/dist-core/<folder>, never by relative path.
const LIB_BY_PACKAGE = {
  regex: '(^|/)libs/dist-core/',
  message: 'Import the lib as @app/dist-core/<folder>.',
};
const otherApps = (service) => [
  LIB_BY_PACKAGE,
  ...SERVICES.filter((other) => other !== service).map((other) => ({
    regex: `(^|/)apps/${other}(/|$)|^\\.\\./\\.\\./(\\.\\./)*${other}(/|$)`,
    message: `apps/${service} must not import apps/${other}: share code through libs/dist-core or libs/order-flow-api.`,
  })),
];
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

/**
 * The lib's folders in layers, lowest first: a folder imports only folders of a lower layer,
 * never one of its own layer or above. Cross-cutting folders and leaves (metrics, observability,
 * hashing) import no pattern; the patterns build on them; bootstrap wires everything. Specs
 * are outside the rule: nothing imports a spec, so it adds no arrow to what ships, and a spec
 * may check its subject through the folders built on it.
 * `node scripts/dev/import-layers.mjs` prints the arrows and any that run up.
 */
export const LIB_LAYERS = [
  ['hashing', 'metrics', 'observability'],
  ['config'],
  ['auth', 'redlock', 'retention', 'recovery', 'batch'],
  ['snowflake', 'kafka'],
  ['outbox', 'inbox'],
  ['barrier', 'engine'],
  ['saga', 'tcc', 'sharding'],
  // twopc's coordinator is TCC's under another name: above tcc.
  ['twopc'],
  ['bootstrap'],
];

const NOT_AN_APP = { regex: '(^|/)apps/', message: 'libs/dist-core must not depend on an app.' };

// One block per folder of the lib: it may not import a folder of its own layer or above.
const libLayers = LIB_LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => {
    const above = LIB_LAYERS.slice(rank)
      .flat()
      .filter((other) => other !== folder);
    const names = above.join('|');
    return {
      files: [`libs/dist-core/src/${folder}/**/*.ts`],
      ignores: ['**/*.spec.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              NOT_AN_APP,
              {
                regex: `^(\\.\\./)+(${names})(/|$)|^@app/dist-core/(${names})(/|$)`,
                message: `libs/dist-core/src/${folder} may import only lower layers (LIB_LAYERS in eslint.config.js).`,
              },
            ],
          },
        ],
      },
    };
  }),
);

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
          patterns: [LIB_BY_PACKAGE],
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
          patterns: [NOT_AN_APP],
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
  ...libLayers,
  ...orderLayers,
);
