# syntax=docker/dockerfile:1
#
# mvfleet image: the compiled library (dist/, built from src/) run by its own bin,
# `node bin/mvfleet.js <command>`, on the example app (examples/demo, found through the
# mvfleet.config.ts in the working directory); production dependencies only, non-root.
# docker-compose.yml runs migrate, worker, scheduler and dashboard from this one image.
#
#   docker build -t mvfleet .
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... mvfleet migrate
#   docker run -p 3000:3000 -e DATABASE_URL=... -e REDIS_URL=... mvfleet            # dashboard
#
# An app of your own replaces the two example COPY lines with its config and the code and
# migrations folder it names (or sets MVFLEET_CONFIG). The config is TypeScript: the bin
# loads it through tsx, a dependency of mvfleet. It imports the library as 'mvfleet', which
# resolves here to dist/ through package.json's name and "exports" (a package may import
# itself by name from inside its own folder).
#
# Install scripts: package.json's `allowScripts` is read by npm 11; the npm 10 in node:20 images
# ignores it and would run every script. So the build stages use --ignore-scripts (tsc needs no
# native code), and the runtime's production tree only carries approved scripts (esbuild,
# msgpackr-extract); embedded-postgres, the demo's zero-setup server, is a dev dependency.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: every dependency (dev included) for the TypeScript build ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build: tsc -p tsconfig.build.json compiles src/ into dist/ --------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, the bin, dist/ and the example app ----------------------
FROM ${NODE_IMAGE} AS runtime
# The dashboard's default port (src/config/env.ts PORT); the HEALTHCHECK below follows it.
ENV PORT=3000
WORKDIR /app
# package.json: "type": "module" for dist/**/*.js, and the name and exports that resolve 'mvfleet'.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Without src/ next to it, the bin runs dist/cli/run.js.
COPY bin ./bin
COPY --from=build /app/dist ./dist
# The example app: the config the CLI finds in the working directory, and what it imports and
# names (its views, events, commands, and drizzle/ migrations, located from the config's own file).
COPY mvfleet.config.ts ./
COPY examples/demo ./examples/demo

# Files stay root-owned and read-only for the process; `node` (uid 1000) ships with the image.
USER node
EXPOSE 3000

# /healthz answers while the process runs (the compose file checks /readyz for the dashboard and
# overrides this for worker/scheduler, which serve no HTTP). Change the port with PORT, not --port,
# so this check follows. slim has no curl: Node's fetch does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/mvfleet.js"]
CMD ["dashboard", "--host", "0.0.0.0"]
