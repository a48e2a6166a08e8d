# syntax=docker/dockerfile:1
# Multi-stage: compile with the full toolchain, install production dependencies separately, and run
# on distroless Node (no shell, no package manager) as uid 65532.
#   docker build -t <registry>/backend-webhook:<tag> .
# Building needs registry access (base images and npm); these development machines have none.

ARG NODE_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# --- build: TypeScript -> dist/ ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off here: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: runtime node_modules only ---------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Two JavaScript threads (admissions, audit worker): glibc's per-thread malloc arenas would hold
# about 30 MiB of freed memory resident; two arenas are enough (docs/benchmarks.md "Audit").
ENV MALLOC_ARENA_MAX=2
# Files stay root-owned: the process can read its code but not change it.
# package.json carries "type": "module", which dist/ needs at run time.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
# Numeric, so that the kubelet can verify runAsNonRoot without a runAsUser.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
CMD ["serve"]
