# One image for the API, the worker and the migrate job (see docker-compose.yml and
# docs/deployment.md). Compiled JavaScript only: no tsx, no TypeScript, no webpack at start.
#   docker build -t stockhold .
#   docker run stockhold                              # the API (node dist/api/server.js)
#   docker run stockhold node dist/worker.js          # the worker (prebuilt workflow bundle)
#   docker run stockhold node dist/prisma/migrate.js  # migrations (+ node dist/prisma/seed.js: demo stock)

# ── build: every dependency, the generated Prisma client, dist/ ──────────────────────────
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Prisma 7's generate runs no engine, but the CLI insists on a schema-engine path. Two clients:
# PostgreSQL's and MySQL's (prisma/mysql/schema.prisma, the MariaDB store's reads).
RUN PRISMA_SCHEMA_ENGINE_BINARY=/bin/sh npx --no-install prisma generate --schema prisma/schema.prisma \
 && PRISMA_SCHEMA_ENGINE_BINARY=/bin/sh npx --no-install prisma generate --schema prisma/mysql/schema.prisma \
 && npm run build

# ── runtime: production dependencies and dist/ (the compiled code, its Lua scripts, the
#    SQL migrations, the generated Prisma client and dist/workflow-bundle.js) ──────────────
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's files stay root's; the processes run as the unprivileged `node` user and write
# nothing to disk.
USER node
EXPOSE 3000 9464
CMD ["node", "dist/api/server.js"]
