import { createHash, randomBytes } from 'node:crypto';
import { basename } from 'node:path';

/** Per-test-file isolation: its own MongoDB database and its own Redis key prefix. */
export interface TestNamespace {
  id: string;
  mongoUri: string;
  redisUrl: string;
  redisKeyPrefix: string;
}

function required(name: 'TEST_MONGODB_URI' | 'TEST_REDIS_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this test through the integration Jest project (npm test)`);
  }
  return value;
}

/** The database URI for `database` on the test server, keeping its query options. */
export function mongoUriFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export function testNamespace(label?: string): TestNamespace {
  const testPath = (expect.getState().testPath) ?? 'unknown';
  const stem = basename(testPath).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9]/g, '').slice(0, 20);
  const hash = createHash('sha1').update(testPath).digest('hex').slice(0, 6);
  const id = `${label ?? stem}_${hash}_${randomBytes(3).toString('hex')}`;
  return {
    id,
    mongoUri: mongoUriFor(required('TEST_MONGODB_URI'), `t_${id}`.slice(0, 60)),
    redisUrl: required('TEST_REDIS_URL'),
    redisKeyPrefix: `t:${id}:`,
  };
}
