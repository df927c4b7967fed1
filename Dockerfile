# syntax=docker/dockerfile:1
# Joinlist image: a build stage compiles the TypeScript with dev dependencies; the runtime stage holds only
# production dependencies, the compiled dist/, the SQL migrations, the message catalogues and mail templates (locales/) and embed.js, and runs as a non-root user.
# The current Node LTS; the code also runs on Node 20 (package.json engines).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY locales ./locales
COPY assets ./assets
# DATA_DIR holds the embedded database, local mailbox and generated token secret when no DATABASE_URL / SMTP_URL
# is set; with PostgreSQL and SMTP it stays empty.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Ready = the database answers (GET /readyz). Node has fetch built in, so the slim image needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself (not npm) is PID 1, so SIGTERM reaches the graceful shutdown in dist/server.js. The flags are the ones
# `npm start` uses: a young generation of 4 MB semi-spaces, and gc() for the export's reader, which collects its
# spent socket buffers as it goes, keep a streaming export under 100 MB (docs/performance.md).
CMD ["node", "--max-semi-space-size=4", "--expose-gc", "dist/server.js"]
