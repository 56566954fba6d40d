import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { CommonConfig } from '@app/config';
import { urlPath } from '@app/errors';
import { RequestLogContext } from './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request headers that carry credentials: a log line shows that they were sent, never their value.
 * Request headers are logged from an allow-list (below) plus these, response headers not at all,
 * URLs without their query: credentials cannot reach a log line, and no per-line redaction pass is
 * needed (pino's path redaction cost ~10 µs per line, on every request of every service).
 */
export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];
const REDACTED = '[redacted]';

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
  return typeof url === 'string' ? urlPath(url) : url;
}

/** The request headers a log line keeps: enough to trace a call, small enough for the hot paths. */
const LOGGED_HEADERS = [
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'origin',
  'x-forwarded-for',
  'x-original-method',
  // The user the ingress's auth check verified: behind the ingress, the service's line is the record
  // of who did what (the auth-service logs accepted checks at debug).
  'x-user-id',
];
/** Headers that carry a whole URL (ingress-nginx's X-Original-URL, Referer): logged without their query. */
const LOGGED_URL_HEADERS = ['x-original-url', 'referer'];

/** The headers of a request as its log line shows them. */
export function loggedHeaders(headers: Record<string, unknown>): Record<string, unknown> {
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
  for (const name of REDACTED_HEADERS) {
    if (headers[name] !== undefined) {
      kept[name] = REDACTED;
    }
  }
  return kept;
}

let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * pino's `time` field as an ISO-8601 UTC string (`,"time":"2026-11-26T19:39:23.123Z"`). Formatting a
 * Date costs ~1 µs, a noticeable share of a small request's CPU when every request writes a line;
 * the text up to the second is computed once per second and the milliseconds appended.
 */
export function isoTime(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

/** Longest a log line waits in the buffer when traffic is too low to fill it. */
const FLUSH_INTERVAL_MS = 250;
let destination: ReturnType<typeof pino.destination> | undefined;

/**
 * Standard output, buffered as pino recommends for throughput: lines are written 4 KiB at a time,
 * asynchronously, and at least every 250 ms, instead of one blocking write(2) per line on the
 * request path. pino writes what is pending when the process exits; a SIGKILL can lose the last
 * quarter-second. One per process: every app of a process shares the file descriptor.
 */
function stdout(): ReturnType<typeof pino.destination> {
  if (!destination) {
    const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    const timer = setInterval(() => {
      try {
        stream.flush();
      } catch {
        clearInterval(timer); // destroyed: the process is exiting
      }
    }, FLUSH_INTERVAL_MS).unref();
    stream.on('close', () => clearInterval(timer));
    destination = stream;
  }
  return destination;
}

/** Structured JSON logs (pino) with request ids, and credentials redacted (see REDACTED_HEADERS). */
@Module({})
export class LoggingModule {
  static register(service: string): DynamicModule {
    return {
      module: LoggingModule,
      providers: [RequestLogContext],
      exports: [RequestLogContext],
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<CommonConfig, true>) => ({
            pinoHttp: [
              {
                level: config.getOrThrow('logLevel', { infer: true }),
                base: { service },
                messageKey: 'msg',
                timestamp: isoTime,
                genReqId: requestId,
                autoLogging: {
                  ignore: (req: IncomingMessage) => /^\/(health|metrics)(\/|$)/.test(req.url ?? ''),
                },
                customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
                  error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
                serializers: {
                  req: (req: {
                    id: unknown;
                    method: string;
                    url: string;
                    headers: Record<string, unknown>;
                  }) => ({
                    id: req.id,
                    method: req.method,
                    url: withoutQuery(req.url),
                    headers: loggedHeaders(req.headers),
                  }),
                  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
                },
              },
              stdout(),
            ],
          }),
        }),
      ],
    };
  }
}
