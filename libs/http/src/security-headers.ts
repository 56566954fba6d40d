import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** helmet's settings for every service: Swagger UI and the test client page load their own scripts and styles. */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      connectSrc: ["'self'", 'ws:', 'wss:'],
    },
  },
};

/**
 * The headers helmet sets, computed once. helmet's values depend only on its options (no nonces
 * here), yet `@fastify/helmet` builds a new helmet middleware — parsing the CSP directives again —
 * for every response; applying a frozen copy gives the same headers for a fraction of the cost.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name];
    },
    getHeader(name: string) {
      return headers[name];
    },
  };
  // helmet throws on bad options (since 8.1; older versions passed the error to `next`).
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error instanceof Error) {
      throw error;
    }
  });
  return Object.freeze(headers);
}

/** The headers of every response of every service (see `securityHeaders`). */
export const SECURITY_HEADERS = securityHeaders();
