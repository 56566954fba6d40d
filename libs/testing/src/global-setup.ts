/* Jest global setup for integration and e2e tests: provides one MongoDB-protocol server and one
 * Redis server for the whole run, in the order SPEC section 9 gives:
 *   1. MONGODB_URI / REDIS_URL from the environment;
 *   2. Testcontainers (mongo:7, redis:7) when a Docker engine answers;
 *   3. local processes started here: redis-server (Debian) and FerretDB 1.x (SQLite backend).
 * Tests read TEST_MONGODB_URI / TEST_REDIS_URL and isolate themselves with testNamespace(). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type LocalServer, REPO_ROOT, startFerretDb, startRedisServer } from './servers';

interface Handle {
  stop(): Promise<unknown>;
}

declare global {
  var __DOWNSTREAM_SERVERS__: Handle[] | undefined;
}

function log(message: string): void {
  process.stderr.write(`[test-servers] ${message}\n`);
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 10_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  // Tests that run services as processes use dist/: keep it in step with the sources (about 1 s).
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const handles: Handle[] = [];
  globalThis.__DOWNSTREAM_SERVERS__ = handles;
  const started = Date.now();
  let mongo = process.env.MONGODB_URI;
  let redis = process.env.REDIS_URL;
  const source: string[] = [];
  if (mongo) {
    source.push('MongoDB from MONGODB_URI');
  }
  if (redis) {
    source.push('Redis from REDIS_URL');
  }

  if ((!mongo || !redis) && process.env.DOWNSTREAM_TEST_NO_DOCKER !== '1' && (await dockerAnswers())) {
    const { GenericContainer, Wait } = await import('testcontainers');
    if (!mongo) {
      log('starting mongo:7 with Testcontainers');
      const container = await new GenericContainer('mongo:7')
        .withExposedPorts(27017)
        .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
        .start();
      handles.push(container);
      mongo = `mongodb://${container.getHost()}:${container.getMappedPort(27017)}/`;
      source.push('mongo:7 (Testcontainers)');
    }
    if (!redis) {
      log('starting redis:7 with Testcontainers');
      const container = await new GenericContainer('redis:7').withExposedPorts(6379).start();
      handles.push(container);
      redis = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
      source.push('redis:7 (Testcontainers)');
    }
  }

  if (!redis) {
    if (!hasCommand('redis-server')) {
      throw new Error(
        'No Redis for the tests: set REDIS_URL, start a Docker engine, or install redis-server (apt-get install redis-server).',
      );
    }
    log('no Docker engine: starting a local redis-server');
    const server: LocalServer = await startRedisServer();
    handles.push({ stop: () => server.dispose() });
    redis = server.url;
    source.push(`redis-server on port ${server.port}`);
  }
  if (!mongo) {
    if (!hasCommand('go') && !process.env.FERRETDB_BIN) {
      throw new Error(
        'No MongoDB for the tests: set MONGODB_URI, start a Docker engine, or install Go so the harness can build FerretDB (apt-get install golang).',
      );
    }
    log('no Docker engine: starting a local FerretDB (MongoDB wire protocol, SQLite backend)');
    const server = await startFerretDb();
    handles.push({ stop: () => server.dispose() });
    mongo = server.url;
    source.push(`FerretDB on port ${server.port}`);
  }

  process.env.TEST_MONGODB_URI = mongo;
  process.env.TEST_REDIS_URL = redis;
  log(`ready in ${Date.now() - started} ms: ${source.join(', ')}`);
}
