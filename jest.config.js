// Four projects: `unit` (*.spec.ts beside the code, no servers), `integration`
// (test/**/*.test.ts, against the real Kafka, Postgres and Redis from `npm run infra:up`),
// `chaos` (test/chaos/**/*.chaos.ts: minutes long, on servers of its own; `npm run test:chaos`,
// left out of `npm test`) and `compose` (test/compose/**/*.compose.ts: against the stack
// docker-compose.yml runs, started by `npm run test:compose`, which runs them).
// NestJS 12 is ESM-only, so Jest runs with --experimental-vm-modules and ts-jest in ESM mode.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  moduleNameMapper: {
    '^@app/dist-core/(.*)$': '<rootDir>/libs/dist-core/src/$1/index.ts',
    '^@app/order-flow-api$': '<rootDir>/libs/order-flow-api/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};

export default {
  // The checkout's own transform cache: Jest's default (/tmp/jest_*) is shared by every checkout
  // on the machine, and one with another ts-jest setup left CommonJS output there that this one
  // then loaded ("exports is not defined").
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // Jest 30 reads testTimeout only here, not per project; unit tests finish far below it.
  testTimeout: 60_000,
  // One suite at a time: integration suites stop and start shared servers (a Redis node, Kafka)
  // and would break each other's assumptions if they overlapped.
  maxWorkers: 1,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/src/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.chaos.ts'],
    },
    {
      ...common,
      displayName: 'compose',
      testMatch: ['<rootDir>/test/compose/**/*.compose.ts'],
    },
  ],
};
