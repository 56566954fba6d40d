/** @jest-config-loader-options {"transpileOnly": true} */
import type { Config } from 'jest';
import { readFileSync } from 'node:fs';

// One SWC configuration for the build and the tests (decorators, metadata, path aliases).
const swcrc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8')) as Record<string, unknown>;
const transform: Config['transform'] = {
  '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }],
  // ESM-only dependencies (content-disposition 3, required by @fastify/static, which Swagger UI loads
  // in-process): Node 20 runs them via require(esm), Jest's CommonJS runtime needs them compiled.
  '/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { ...swcrc, swcrc: false, jsc: { ...(swcrc.jsc as object), parser: { syntax: 'ecmascript' } } }],
};
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];
const moduleNameMapper = {
  '^@app/(config|logging|errors|health|metrics|redis|http|contracts|tokens|testing)$': '<rootDir>/libs/$1/src',
};

const shared = {
  rootDir: __dirname,
  transform,
  transformIgnorePatterns,
  moduleNameMapper,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60_000,
};

const config: Config = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/*/src/**/*.spec.ts', '<rootDir>/libs/*/src/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/apps/*/test/**/*.int-spec.ts', '<rootDir>/libs/*/test/**/*.int-spec.ts', '<rootDir>/deploy/test/**/*.int-spec.ts'],
      slowTestThreshold: 30,
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/deploy/test/**/*.e2e-spec.ts', '<rootDir>/bench/test/**/*.e2e-spec.ts'],
    },
  ],
  // Servers for the integration and e2e projects, started once per run (SPEC section 9).
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  testTimeout: 60_000,
};

export default config;
