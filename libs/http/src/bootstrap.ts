import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, type CommonConfig } from '@app/config';
import { type AppOptions, createApp } from './create-app';

export interface ServiceDefinition<C extends CommonConfig> extends AppOptions {
  name: string;
  loadConfig: (env: NodeJS.ProcessEnv) => C;
  module: (config: C) => DynamicModule;
}

/**
 * The whole of a service's `main.ts`: validate config (one line naming the variable, exit 1),
 * build the app, listen. Errors at boot are logged as one JSON line and exit 1.
 */
export async function bootstrapService<C extends CommonConfig>(
  definition: ServiceDefinition<C>,
): Promise<NestFastifyApplication | undefined> {
  let config: C;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(definition.module(config), definition);
  await app.listen(config.port, config.host);
  drainOnSignals(app, definition.name);
  return app;
}

const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * SIGTERM/SIGINT: readiness turns 503, the server stops accepting, in-flight requests finish,
 * websockets close (clients reconnect elsewhere), Redis/MongoDB close; then exit 0. A second signal,
 * or a drain longer than 25 s, exits at once.
 */
function drainOnSignals(app: NestFastifyApplication, name: string): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) {
      process.exit(1);
    }
    closing = true;
    process.stderr.write(`${JSON.stringify({ level: 'info', service: name, time: new Date().toISOString(), msg: `${signal}: draining` })}\n`);
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // A keep-alive connection whose request was in flight at the signal turns idle only after its
    // answer; Fastify closes idle connections once, at the start of close(), so without this the
    // drain would wait for the client to hang up (or for the timeout above).
    const server = app.getHttpServer();
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    idle.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

export function runService<C extends CommonConfig>(definition: ServiceDefinition<C>): void {
  bootstrapService(definition).catch((error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: definition.name, time: new Date().toISOString(), msg: `failed to start: ${message}` })}\n`,
    );
    process.exit(1);
  });
}
