# syntax=docker/dockerfile:1
# One Dockerfile for the three services. Each service is a final stage (build target):
#   docker build --target todo-service  -t downstream/todo-service .
#   docker build --target event-gateway -t downstream/event-gateway .
#   docker build --target auth-service  -t downstream/auth-service .
# docker-compose.yml and the Helm chart use these targets / image names.
#
# Signals: tini runs as PID 1 and forwards SIGTERM to node, so graceful shutdown (stop accepting,
# drain, close sockets, exit 0 within 25 s) works under `docker stop` and Kubernetes, including a
# SIGTERM that arrives before the app has installed its handlers, and zombies are reaped.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, compile apps/ and libs/ to dist/ --------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json .swcrc nest-cli.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY libs libs
COPY apps apps
RUN node scripts/build.mjs

# --- deps: production dependencies only --------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime: shared base of the three service images ------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini from Debian (not pinned: Debian security updates replace the exact version).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 downstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin downstream
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Code and modules stay owned by root: the service user can read them, not change them, and the
# container runs with a read-only root filesystem in Kubernetes.
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 10001:10001
STOPSIGNAL SIGTERM
# Liveness of the process only (readiness, with dependencies, is /health/ready: see the chart).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]

# --- the three services ------------------------------------------------------------------------
FROM runtime AS todo-service
ENV PORT=3000
EXPOSE 3000
CMD ["node", "dist/apps/todo-service/src/main.js"]

FROM runtime AS auth-service
ENV PORT=3002
EXPOSE 3002
CMD ["node", "dist/apps/auth-service/src/main.js"]

# Last stage = default target of a plain `docker build .`.
FROM runtime AS event-gateway
ENV PORT=3001
EXPOSE 3001
CMD ["node", "dist/apps/event-gateway/src/main.js"]
