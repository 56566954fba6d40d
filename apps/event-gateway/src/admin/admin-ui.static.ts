import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { urlPath } from '@app/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminUiService } from './admin-ui.service';

/** The UI files @socket.io/admin-ui ships (a built Vue app). */
export const ADMIN_UI_ROOT = join(dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file under ADMIN_UI_ROOT a URL path names, or undefined (traversal, unknown type). */
export function adminUiFile(path: string): string | undefined {
  let relative: string;
  try {
    relative = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (relative === '' || relative.endsWith('/')) {
    relative += 'index.html';
  }
  const file = normalize(join(ADMIN_UI_ROOT, relative));
  if (!file.startsWith(ADMIN_UI_ROOT + sep) || relative.includes('\0') || !(extname(file) in CONTENT_TYPES)) {
    return undefined;
  }
  return file;
}

/** The UI loads its fonts and icons from public CDNs; allow exactly those on its pages. */
const ADMIN_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com https://cdn.jsdelivr.net",
  "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
].join('; ');

/**
 * Serves the Admin UI under `/admin/` from the gateway itself, behind HTTP basic auth with the
 * ADMIN_UI_USERNAME/ADMIN_UI_PASSWORD credentials (401 otherwise). Registered before `init()`.
 */
export async function registerAdminUi(app: NestFastifyApplication): Promise<void> {
  const admin = app.get(AdminUiService);
  const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
  await fastify.register((scope, _options, done) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!admin.checkBasicAuth(request.headers.authorization)) {
        await reply
          .code(401)
          .header('WWW-Authenticate', 'Basic realm="Socket.IO Admin UI", charset="UTF-8"')
          .header('Content-Type', 'application/problem+json')
          .send({
            type: 'https://downstream.dev/problems/unauthorized',
            title: 'Unauthorized',
            status: 401,
            detail: 'the Admin UI requires the configured basic-auth credentials',
            instance: urlPath(request.url),
          });
      }
    });
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('Content-Security-Policy', ADMIN_UI_CSP);
      return payload;
    });
    scope.get('/admin', async (_request, reply) => reply.redirect('./admin/', 302));
    // A handful of static files; served directly (no @fastify/static, whose dependencies are ESM-only).
    scope.get('/admin/*', async (request, reply) => {
      const file = adminUiFile((request.params as { '*': string })['*']);
      const body = file ? await readFile(file).catch(() => undefined) : undefined;
      if (!file || !body) {
        return reply.code(404).header('Content-Type', 'application/problem+json').send({
          type: 'https://downstream.dev/problems/not-found',
          title: 'Not Found',
          status: 404,
          detail: 'no such Admin UI file',
        });
      }
      return reply
        .header('Content-Type', CONTENT_TYPES[extname(file)])
        .header('Cache-Control', 'public, max-age=3600')
        .send(body);
    });
    done();
  });
}
