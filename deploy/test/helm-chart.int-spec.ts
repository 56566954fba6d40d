import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as policy from 'kubernetes-models/policy/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as gatewayApi from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';

// The Helm chart (SPEC section 11), rendered by the real helm binary and checked against the
// Kubernetes and Gateway API schemas, then against the seed's ingress design.

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'deploy', 'helm', 'downstream');
const NAMESPACE = 'downstream-test';
const RELEASE = 'downstream';

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: any;
} & Record<string, any>;

const VALUE_SETS: Record<string, string[]> = {
  default: [],
  dev: ['values-dev.yaml'],
  'gateway-api': ['values-gateway-api.yaml'],
};

let helmPath: string | undefined;
function helm(): string {
  helmPath ??=
    process.env.HELM_BIN ||
    execFileSync('bash', [join(ROOT, 'scripts', 'ensure-helm.sh')], { encoding: 'utf8' }).trim();
  return helmPath;
}

function valueArgs(files: string[], sets: string[]): string[] {
  return [...files.flatMap((file) => ['-f', join(CHART, file)]), ...sets.flatMap((set) => ['--set', set])];
}

function render(files: string[], sets: string[] = []): K8sObject[] {
  const out = execFileSync(
    helm(),
    ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...valueArgs(files, sets)],
    {
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
    },
  );
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null);
}

function renderError(files: string[], sets: string[]): string {
  const result = spawnSync(helm(), ['template', RELEASE, CHART, ...valueArgs(files, sets)], {
    encoding: 'utf8',
  });
  expect(result.status).not.toBe(0);
  return result.stderr;
}

const rendered: Record<string, K8sObject[]> = Object.fromEntries(
  Object.entries(VALUE_SETS).map(([name, files]) => [name, render(files)]),
);

function all(set: string, kind: string): K8sObject[] {
  return rendered[set].filter((obj) => obj.kind === kind);
}

function one(set: string, kind: string, name: string): K8sObject {
  const found = rendered[set].find((obj) => obj.kind === kind && obj.metadata.name === name);
  if (!found) {
    throw new Error(
      `${set}: no ${kind} ${name} among ${rendered[set].map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  }
  return found;
}

type Model = new (data: object) => { validate(): void };
const KUBERNETES_MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'autoscaling/v2': autoscaling,
  'policy/v1': policy,
  'networking.k8s.io/v1': networking,
  'gateway.networking.k8s.io/v1': gatewayApi,
};

// Envoy Gateway's policies are CRDs without a model package: checked against the subset of their
// schema (gateway.envoyproxy.io/v1alpha1) the chart uses, with unknown fields rejected so a typo fails.
const targetRefs = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['group', 'kind', 'name'],
    properties: {
      group: { const: 'gateway.networking.k8s.io' },
      kind: { enum: ['Gateway', 'HTTPRoute'] },
      name: { type: 'string', minLength: 1 },
    },
  },
};
const backendRef = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'port'],
  properties: {
    name: { type: 'string', minLength: 1 },
    namespace: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
};
const ENVOY_GATEWAY_SCHEMAS: Record<string, object> = {
  SecurityPolicy: {
    type: 'object',
    required: ['spec'],
    properties: {
      spec: {
        type: 'object',
        additionalProperties: false,
        required: ['targetRefs', 'extAuth'],
        properties: {
          targetRefs,
          extAuth: {
            type: 'object',
            additionalProperties: false,
            required: ['http'],
            properties: {
              headersToExtAuth: { type: 'array', items: { type: 'string' } },
              http: {
                type: 'object',
                additionalProperties: false,
                required: ['backendRefs'],
                properties: {
                  backendRefs: { type: 'array', minItems: 1, items: backendRef },
                  path: { type: 'string', pattern: '^/' },
                  headersToBackend: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
  BackendTrafficPolicy: {
    type: 'object',
    required: ['spec'],
    properties: {
      spec: {
        type: 'object',
        additionalProperties: false,
        required: ['targetRefs', 'loadBalancer'],
        properties: {
          targetRefs,
          loadBalancer: {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: { enum: ['ConsistentHash', 'LeastRequest', 'Random', 'RoundRobin'] },
              consistentHash: {
                type: 'object',
                additionalProperties: false,
                required: ['type'],
                properties: {
                  type: { enum: ['SourceIP', 'Header', 'Headers', 'Cookie', 'QueryParams'] },
                  cookie: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['name'],
                    properties: {
                      name: { type: 'string', minLength: 1 },
                      ttl: { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' },
                      attributes: { type: 'object', additionalProperties: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
const ajv = new Ajv({ allErrors: true });

function validate(obj: K8sObject): void {
  if (obj.apiVersion === 'gateway.envoyproxy.io/v1alpha1') {
    const schema = ENVOY_GATEWAY_SCHEMAS[obj.kind];
    if (!schema) {
      throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
    }
    const data: unknown = obj;
    if (!ajv.validate(schema, data)) {
      throw new Error(`${obj.kind}/${obj.metadata.name}: ${ajv.errorsText()}`);
    }
    return;
  }
  const Model = KUBERNETES_MODELS[obj.apiVersion]?.[obj.kind] as Model | undefined;
  if (!Model) {
    throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  }
  try {
    new Model(obj).validate();
  } catch (error) {
    throw new Error(`${obj.kind}/${obj.metadata.name}: ${(error as Error).message}`);
  }
}

/** Every path an Ingress or HTTPRoute exposes publicly, with the Service it reaches. */
function publicRoutes(set: string): { path: string; service: string; port: number | string }[] {
  const routes: { path: string; service: string; port: number | string }[] = [];
  for (const ingress of all(set, 'Ingress')) {
    for (const rule of ingress.spec.rules) {
      for (const p of rule.http.paths) {
        routes.push({
          path: p.path,
          service: p.backend.service.name,
          port: p.backend.service.port.name ?? p.backend.service.port.number,
        });
      }
    }
  }
  for (const route of all(set, 'HTTPRoute')) {
    for (const rule of route.spec.rules) {
      for (const match of rule.matches ?? [{ path: { value: '/' } }]) {
        for (const ref of rule.backendRefs) {
          routes.push({ path: match.path?.value ?? '/', service: ref.name, port: ref.port });
        }
      }
    }
  }
  return routes;
}

const name = (component: string): string => `${RELEASE}-${component}`;
const COMPONENTS = [
  { component: 'todo-service', port: 3000 },
  { component: 'event-gateway', port: 3001 },
  { component: 'auth-service', port: 3002 },
];

describe('the Helm chart', () => {
  describe.each(Object.keys(VALUE_SETS))('with the %s values', (set) => {
    it('passes helm lint --strict', () => {
      const result = spawnSync(
        helm(),
        ['lint', '--strict', CHART, '--namespace', NAMESPACE, ...valueArgs(VALUE_SETS[set], [])],
        { encoding: 'utf8' },
      );
      expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    });

    it('renders only objects that validate against the Kubernetes and Gateway API schemas', () => {
      expect(rendered[set].length).toBeGreaterThan(10);
      for (const obj of rendered[set]) {
        expect(() => validate(obj)).not.toThrow();
      }
    });

    it('runs the three services with probes on /health/live and /health/ready and a preStop that matches the graceful shutdown', () => {
      for (const { component, port } of COMPONENTS) {
        const deployment = one(set, 'Deployment', name(component));
        const pod = deployment.spec.template.spec;
        const [container] = pod.containers;
        expect(container.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
        expect(container.env).toContainEqual({ name: 'PORT', value: String(port) });
        expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
        expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(container.resources.requests).toEqual(
          expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
        );
        expect(container.resources.limits.memory).toEqual(expect.any(String));
        const [sleep, seconds] = container.lifecycle.preStop.exec.command as string[];
        expect(sleep).toBe('sleep');
        // The apps drain for up to 25 s after SIGTERM; the grace period covers the preStop sleep too.
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + 25);
        expect(deployment.spec.strategy).toEqual({
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
        });
        // The Service selects exactly these pods and exposes the named port.
        const service = one(set, 'Service', name(component));
        expect(service.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
        expect(deployment.spec.template.metadata.labels).toEqual(
          expect.objectContaining(service.spec.selector),
        );
        expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
      }
    });

    it('runs every container as non-root with a read-only root filesystem and no capabilities', () => {
      for (const { component } of COMPONENTS) {
        const pod = one(set, 'Deployment', name(component)).spec.template.spec;
        expect(pod.securityContext).toEqual(
          expect.objectContaining({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 }),
        );
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.serviceAccountName).toBe(one(set, 'ServiceAccount', RELEASE).metadata.name);
        for (const container of pod.containers) {
          expect(container.securityContext).toEqual(
            expect.objectContaining({
              runAsNonRoot: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            }),
          );
        }
      }
    });

    it('gives no public route to the Event API (/events, /clients) nor a catch-all', () => {
      const routes = publicRoutes(set);
      expect(routes.length).toBeGreaterThanOrEqual(3);
      for (const { path } of routes) {
        expect(path).not.toMatch(/^\/(events|clients)(\/|$)/);
        expect(path).not.toBe('/');
      }
      // Everything routed to the event-gateway is Socket.IO or its operator pages.
      for (const route of routes.filter((r) => r.service === name('event-gateway'))) {
        expect(['/socket.io', '/admin', '/client']).toContain(route.path);
      }
    });

    it('passes to each service exactly the secret keys the Secret (or the existing Secret) provides', () => {
      const secret = rendered[set].find((obj) => obj.kind === 'Secret');
      for (const { component } of COMPONENTS) {
        const env = one(set, 'Deployment', name(component)).spec.template.spec.containers[0].env as any[];
        for (const ref of env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom.secretKeyRef)) {
          expect(ref.name).toBe(secret?.metadata.name);
          if (set === 'dev') {
            expect(Object.keys(secret?.stringData ?? {})).toContain(ref.key);
          }
        }
      }
    });
  });

  describe('ingresses (ingress-nginx, the seed design)', () => {
    it('puts the todo ingress behind the auth-service /auth/verify and passes X-User-Id and X-User-Roles', () => {
      const todo = one('default', 'Ingress', `${RELEASE}-todo`);
      expect(todo.metadata.annotations).toEqual(
        expect.objectContaining({
          'nginx.ingress.kubernetes.io/auth-url': `http://${name('auth-service')}.${NAMESPACE}.svc.cluster.local:3002/auth/verify`,
          'nginx.ingress.kubernetes.io/auth-response-headers': 'X-User-Id,X-User-Roles',
        }),
      );
      expect(todo.spec.ingressClassName).toBe('nginx');
      expect(todo.spec.rules).toEqual([
        {
          host: 'downstream.example.com',
          http: {
            paths: [
              {
                path: '/todos',
                pathType: 'Prefix',
                backend: { service: { name: name('todo-service'), port: { name: 'http' } } },
              },
            ],
          },
        },
      ]);
      // The auth-url points at a Service the chart renders, on its port.
      expect(one('default', 'Service', name('auth-service')).spec.ports[0].port).toBe(3002);
    });

    it('routes only /socket.io on the event ingress, with the seed websocket annotations and no auth-url', () => {
      const events = one('default', 'Ingress', `${RELEASE}-events`);
      expect(events.metadata.annotations).toEqual(
        expect.objectContaining({
          'nginx.ingress.kubernetes.io/websocket-services': name('event-gateway'),
          'nginx.org/websocket-services': name('event-gateway'),
          'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
          'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
          'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
        }),
      );
      expect(Object.keys(events.metadata.annotations ?? {}).filter((key) => key.includes('auth-'))).toEqual(
        [],
      );
      const paths = events.spec.rules.flatMap((rule: any) => rule.http.paths);
      expect(paths).toEqual([
        {
          path: '/socket.io',
          pathType: 'Prefix',
          backend: { service: { name: name('event-gateway'), port: { name: 'http' } } },
        },
      ]);
    });

    it('pins polling clients to one gateway replica with cookie affinity unless sticky sessions are turned off', () => {
      expect(one('default', 'Ingress', `${RELEASE}-events`).metadata.annotations).toEqual(
        expect.objectContaining({ 'nginx.ingress.kubernetes.io/affinity': 'cookie' }),
      );
      const withoutSticky = render([], ['eventGateway.stickySessions=false']).find(
        (o) => o.kind === 'Ingress' && o.metadata.name === `${RELEASE}-events`,
      );
      expect(withoutSticky?.metadata.annotations?.['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
      expect(withoutSticky?.metadata.annotations?.['nginx.org/websocket-services']).toBe(
        name('event-gateway'),
      );
    });

    it('routes /auth to the auth-service on the auth ingress', () => {
      const auth = one('default', 'Ingress', `${RELEASE}-auth`);
      expect(auth.spec.rules[0].http.paths).toEqual([
        {
          path: '/auth',
          pathType: 'Prefix',
          backend: { service: { name: name('auth-service'), port: { name: 'http' } } },
        },
      ]);
    });

    it('takes hosts and TLS from the values', () => {
      const objects = render(
        [],
        [
          'ingress.host=api.example.org',
          'ingress.events.host=ws.example.org',
          'ingress.tls[0].secretName=api-tls',
          'ingress.tls[0].hosts[0]=api.example.org',
        ],
      );
      const ingress = (n: string) =>
        objects.find((o) => o.kind === 'Ingress' && o.metadata.name === `${RELEASE}-${n}`)!;
      expect(ingress('todo').spec.rules[0].host).toBe('api.example.org');
      expect(ingress('events').spec.rules[0].host).toBe('ws.example.org');
      expect(ingress('auth').spec.tls).toEqual([{ secretName: 'api-tls', hosts: ['api.example.org'] }]);
    });

    it('keeps the Admin UI and test client hosts off in production and serves them on their own hosts in dev', () => {
      expect(
        all('default', 'Ingress')
          .map((i) => i.metadata.name)
          .sort(),
      ).toEqual([`${RELEASE}-auth`, `${RELEASE}-events`, `${RELEASE}-todo`]);
      const admin = one('dev', 'Ingress', `${RELEASE}-admin-ui`);
      const client = one('dev', 'Ingress', `${RELEASE}-test-client`);
      expect(admin.spec.rules[0].host).toBe('socketio-admin.localtest.me');
      expect(admin.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(['/admin', '/socket.io']);
      expect(client.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(['/client', '/socket.io']);
      expect(admin.metadata.annotations?.['nginx.ingress.kubernetes.io/websocket-services']).toBe(
        name('event-gateway'),
      );
    });

    it('refuses to render an operator host that would route the Event API', () => {
      expect(
        renderError([], ['ingress.adminUi.enabled=true', 'ingress.adminUi.paths={/admin,/events}']),
      ).toContain('must not be routed');
    });
  });

  describe('Gateway API alternative', () => {
    it('replaces the ingresses with HTTPRoutes for /todos, /socket.io and /auth', () => {
      expect(all('gateway-api', 'Ingress')).toEqual([]);
      const routes = publicRoutes('gateway-api');
      expect(routes).toEqual(
        expect.arrayContaining([
          { path: '/todos', service: name('todo-service'), port: 3000 },
          { path: '/socket.io', service: name('event-gateway'), port: 3001 },
          { path: '/auth', service: name('auth-service'), port: 3002 },
        ]),
      );
      expect(routes).toHaveLength(3);
      for (const route of all('gateway-api', 'HTTPRoute')) {
        expect(route.spec.parentRefs).toEqual([{ name: 'downstream', sectionName: 'https' }]);
        expect(route.spec.hostnames).toEqual(['downstream.example.com']);
      }
      expect(one('gateway-api', 'Gateway', 'downstream').spec.listeners[0]).toEqual(
        expect.objectContaining({ name: 'https', port: 443 }),
      );
    });

    it('protects only the todo route with an external auth policy calling the auth-service /auth/verify', () => {
      const policies = all('gateway-api', 'SecurityPolicy');
      expect(policies).toHaveLength(1);
      const [policy] = policies;
      expect(policy.apiVersion).toBe('gateway.envoyproxy.io/v1alpha1');
      expect(policy.spec.targetRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: `${RELEASE}-todo` },
      ]);
      expect(policy.spec.extAuth.http).toEqual({
        backendRefs: [{ name: name('auth-service'), port: 3002 }],
        path: '/auth/verify',
        headersToBackend: ['X-User-Id', 'X-User-Roles'],
      });
      expect(one('gateway-api', 'HTTPRoute', `${RELEASE}-todo`).spec.rules[0].backendRefs).toEqual([
        { name: name('todo-service'), port: 3000 },
      ]);
    });

    it('keeps long-lived websockets open and sticky on the /socket.io route', () => {
      const events = one('gateway-api', 'HTTPRoute', `${RELEASE}-events`);
      expect(events.spec.rules[0].timeouts).toEqual({ request: '0s' });
      const sticky = one('gateway-api', 'BackendTrafficPolicy', `${RELEASE}-events-sticky`);
      expect(sticky.spec.targetRefs[0].name).toBe(`${RELEASE}-events`);
      expect(sticky.spec.loadBalancer.consistentHash.type).toBe('Cookie');
    });
  });

  describe('NetworkPolicy', () => {
    const podLabels = (set: string, component: string) =>
      one(set, 'Deployment', name(component)).spec.template.metadata.labels as Record<string, string>;
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);

    it('lets only the todo-service pods and the ingress controller reach the event-gateway port', () => {
      const policy = one('default', 'NetworkPolicy', name('event-gateway'));
      expect(matches(policy.spec.podSelector.matchLabels, podLabels('default', 'event-gateway'))).toBe(true);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.ingress).toHaveLength(1);
      const [rule] = policy.spec.ingress;
      expect(rule.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
      expect(rule.from).toHaveLength(2);
      const [todoPeer, controllerPeer] = rule.from;
      expect(todoPeer.namespaceSelector).toBeUndefined();
      expect(matches(todoPeer.podSelector.matchLabels, podLabels('default', 'todo-service'))).toBe(true);
      expect(matches(todoPeer.podSelector.matchLabels, podLabels('default', 'auth-service'))).toBe(false);
      expect(controllerPeer).toEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
      });
    });

    it('does not let the todo-service or auth-service ports be reached by other pods of the namespace', () => {
      for (const component of ['todo-service', 'auth-service']) {
        const policy = one('default', 'NetworkPolicy', name(component));
        const peers = policy.spec.ingress.flatMap((rule: any) => rule.from);
        expect(peers).toHaveLength(1);
        expect(peers[0].namespaceSelector).toBeDefined();
      }
    });

    it('allows egress to DNS, Redis, MongoDB (todo-service) and the Event API, with configurable endpoints', () => {
      const todo = one('default', 'NetworkPolicy', name('todo-service'));
      const ports = todo.spec.egress.flatMap((rule: any) => rule.ports.map((p: any) => p.port));
      expect(ports.sort()).toEqual([27017, 3001, 53, 53, 6379].sort());
      const toGateway = todo.spec.egress.find((rule: any) => rule.ports[0].port === 3001);
      expect(matches(toGateway.to[0].podSelector.matchLabels, podLabels('default', 'event-gateway'))).toBe(
        true,
      );
      const gatewayPorts = one('default', 'NetworkPolicy', name('event-gateway')).spec.egress.flatMap(
        (rule: any) => rule.ports.map((p: any) => p.port),
      );
      expect(gatewayPorts).not.toContain(27017);
      // values-dev points MongoDB/Redis egress at the in-cluster dev databases.
      const dev = one('dev', 'NetworkPolicy', name('todo-service'));
      const mongoRule = dev.spec.egress.find((rule: any) => rule.ports[0].port === 27017);
      expect(
        matches(
          mongoRule.to[0].podSelector.matchLabels,
          one('dev', 'StatefulSet', name('mongodb')).spec.template.metadata.labels,
        ),
      ).toBe(true);
    });
  });

  describe('scaling, secrets and the dev databases', () => {
    it('scales with HPAs (autoscaling/v2) and PDBs in production, leaving replicas to the HPA', () => {
      for (const { component } of COMPONENTS) {
        const hpa = one('default', 'HorizontalPodAutoscaler', name(component));
        expect(hpa.apiVersion).toBe('autoscaling/v2');
        expect(hpa.spec.scaleTargetRef).toEqual({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: name(component),
        });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(one('default', 'Deployment', name(component)).spec.replicas).toBeUndefined();
        expect(one('default', 'PodDisruptionBudget', name(component)).spec).toEqual({
          minAvailable: 1,
          selector: { matchLabels: one('default', 'Service', name(component)).spec.selector },
        });
      }
      // One replica each in dev: fixed replicas, no HPA, and no PDB that would block node drains.
      expect(all('dev', 'HorizontalPodAutoscaler')).toEqual([]);
      expect(all('dev', 'PodDisruptionBudget')).toEqual([]);
      expect(one('dev', 'Deployment', name('event-gateway')).spec.replicas).toBe(1);
    });

    it('uses an existing Secret instead of rendering one when secrets.existingSecret is set', () => {
      const objects = render([], ['secrets.existingSecret=platform-managed']);
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
      const env = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name('auth-service'))!
        .spec.template.spec.containers[0].env;
      expect(env).toContainEqual({
        name: 'AUTH_CLIENTS',
        valueFrom: { secretKeyRef: { name: 'platform-managed', key: 'AUTH_CLIENTS' } },
      });
    });

    it('rejects values that do not match values.schema.json (typos, wrong types, bad URLs)', () => {
      expect(renderError([], ['todoServce.port=3000'])).toContain(
        "additional properties 'todoServce' not allowed",
      );
      expect(renderError([], ['eventGateway.port=http'])).toContain('/eventGateway/port');
      expect(renderError([], ['mongodb.uri=http://mongo:27017'])).toContain('/mongodb/uri');
      expect(renderError([], ['config.jwtAlgorithm=none'])).toContain('/config/jwtAlgorithm');
    });

    it('renders no secret values by default and refuses a JWT secret shorter than 32 bytes', () => {
      expect(one('default', 'Secret', `${RELEASE}-secrets`).stringData).toEqual({});
      expect(renderError([], ['secrets.jwtSecret=too-short'])).toContain('at least 32 bytes');
    });

    it('wires the todo-service to the Event API by Service name and the services to MongoDB and Redis', () => {
      const env = one('default', 'Deployment', name('todo-service')).spec.template.spec.containers[0].env;
      expect(env).toContainEqual({ name: 'EVENT_API_URL', value: `http://${name('event-gateway')}:3001` });
      const secret = one('dev', 'Secret', `${RELEASE}-secrets`).stringData;
      expect(secret.MONGODB_URI).toBe(`mongodb://${name('mongodb')}:27017/downstream`);
      expect(secret.REDIS_URL).toBe(`redis://${name('redis')}:6379`);
      expect(secret.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
      expect(one('dev', 'ConfigMap', `${RELEASE}-config`).data).toEqual(
        expect.objectContaining({ NODE_ENV: 'development', JWT_ISSUER: 'downstream-auth' }),
      );
    });

    it('runs single-node MongoDB and Redis with append-only persistence in dev only', () => {
      expect(all('default', 'StatefulSet')).toEqual([]);
      const mongo = one('dev', 'StatefulSet', name('mongodb'));
      const redis = one('dev', 'StatefulSet', name('redis'));
      expect(mongo.spec.template.spec.containers[0].image).toBe('mongo:7');
      expect(redis.spec.template.spec.containers[0].image).toBe('redis:7');
      expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--appendonly yes');
      expect(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
      expect(one('dev', 'Service', name('mongodb')).spec.ports[0].port).toBe(27017);
    });
  });
});
