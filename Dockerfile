# One image for the API, the worker and the migrate/seed job (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Prisma 7's generate runs no engine, but the CLI insists on a schema-engine path.
RUN PRISMA_SCHEMA_ENGINE_BINARY=/bin/sh npx prisma generate
ENV NODE_ENV=production HOST=0.0.0.0
EXPOSE 3000 9464
CMD ["node", "--import", "tsx", "api/server.ts"]
