# One image for the three services and the identity issuer; docker-compose.yml picks one with
# `command`.
# Build stage: install everything, compile the lib and the apps with tsc -b, drop dev deps.
FROM node:20.19.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/dist-core/package.json libs/dist-core/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY libs libs
COPY apps apps
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled JavaScript and production node_modules only. The lib is reached the
# same way as in a native run: node_modules/@app/dist-core links to libs/dist-core (npm workspace).
FROM node:20.19.2-bookworm-slim
ENV NODE_ENV=production
# In a container the port is published through the container's own interface, not loopback.
ENV HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/dist-core/package.json libs/dist-core/
COPY --from=build /app/libs/dist-core/dist libs/dist-core/dist
COPY --from=build /app/dist dist
# The identity issuer is plain JavaScript on production dependencies (`node issuer/server.mjs`),
# and so is the Kafka access step docker-compose.yml runs once (topics and ACLs). The issuer
# keeps its generated keys in .infra/secrets, where compose mounts a volume, which takes its
# owner from this directory.
COPY issuer issuer
COPY scripts/infra/kafka-access.mjs scripts/infra/kafka-admin.mjs scripts/infra/
RUN mkdir -p .infra/secrets && chown -R node:node .infra && chmod 700 .infra/secrets
USER node
CMD ["node", "--max-old-space-size=128", "dist/apps/order/main.js"]
