# syntax=docker/dockerfile:1
#
# mvfleet image: compiled CLI (`node dist/cli/main.js <command>`), production dependencies only,
# non-root. docker-compose.yml runs migrate, worker, scheduler and dashboard from this one image.
#
#   docker build -t mvfleet .
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... mvfleet migrate
#   docker run -p 3000:3000 -e DATABASE_URL=... -e REDIS_URL=... mvfleet            # dashboard
#
# Install scripts: package.json's `allowScripts` is read by npm 11; the npm 10 in node:20 images
# ignores it and would run every script. So the build stages use --ignore-scripts (tsc needs no
# native code), and the runtime's production tree only carries approved scripts
# (@embedded-postgres/<platform> symlinks, esbuild, msgpackr-extract).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: every dependency (dev included) for the TypeScript build ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build: tsc -p tsconfig.build.json → dist/ -------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
# The folders tsconfig.build.json compiles (test/deploy.compose.test.ts keeps the two lists in step).
COPY cli ./cli
COPY core ./core
COPY db ./db
COPY schema ./schema
COPY seed ./seed
COPY producers ./producers
COPY workers ./workers
COPY reads ./reads
COPY dashboards ./dashboards
COPY index.ts ./index.ts
RUN npm run build

# ---- runtime: production dependencies + dist/ + migrations -------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The dashboard's default port (core/env.ts PORT); the HEALTHCHECK below follows it.
ENV PORT=3000
WORKDIR /app
# package.json also carries "type": "module", which dist/**/*.js needs.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# db/migrate.js reads `new URL('../drizzle', import.meta.url)`: from dist/db that is dist/drizzle.
COPY drizzle ./dist/drizzle

# Files stay root-owned and read-only for the process; `node` (uid 1000) ships with the image.
USER node
EXPOSE 3000

# /healthz answers while the process runs (the compose file checks /readyz for the dashboard and
# overrides this for worker/scheduler, which serve no HTTP). Change the port with PORT, not --port,
# so this check follows. slim has no curl: Node's fetch does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["dashboard", "--host", "0.0.0.0"]
