import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { CommonConfig } from '@app/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths every log redacts: credentials never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'res.headers.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.access_token',
];

/**
 * The request id: the one Fastify assigned (the caller's `X-Request-Id`, else a UUID), when it is
 * well formed; a new UUID otherwise.
 */
export function requestId(req: IncomingMessage & { id?: unknown }): string {
  const given = req.id;
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Query strings may carry secrets (a token in `?access_token=`): logs keep the path only. */
export function withoutQuery(url: unknown): unknown {
  return typeof url === 'string' ? url.split('?')[0] : url;
}

/** The request headers a log line keeps: enough to trace a call, small enough for the hot paths. */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'origin', 'x-forwarded-for', 'x-original-method'];
/** Headers that carry a whole URL (ingress-nginx's X-Original-URL, Referer): logged without their query. */
const LOGGED_URL_HEADERS = ['x-original-url', 'referer'];

function loggedHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of LOGGED_HEADERS) {
    if (headers[name] !== undefined) {
      kept[name] = headers[name];
    }
  }
  for (const name of LOGGED_URL_HEADERS) {
    if (headers[name] !== undefined) {
      kept[name] = withoutQuery(headers[name]);
    }
  }
  return kept;
}

/** Structured JSON logs (pino) with request ids and redaction. */
@Module({})
export class LoggingModule {
  static register(service: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<CommonConfig, true>) => ({
            pinoHttp: {
              level: config.getOrThrow('logLevel', { infer: true }),
              base: { service },
              messageKey: 'msg',
              timestamp: () => `,"time":"${new Date().toISOString()}"`,
              genReqId: requestId,
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              autoLogging: {
                ignore: (req: IncomingMessage) => /^\/(health|metrics)(\/|$)/.test(req.url ?? ''),
              },
              customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
                error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
              serializers: {
                req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
                  id: req.id,
                  method: req.method,
                  url: withoutQuery(req.url),
                  headers: loggedHeaders(req.headers),
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
            },
          }),
        }),
      ],
    };
  }
}
