# One image for the three services and the identity issuer; docker-compose.yml picks one with
# `command`.
#
# Node 24, the current LTS, pinned by digest so a rebuild gets the same base: node:24-bookworm-slim
# (Node 24.18.0), the digest as pinned by github.com/cyanxxy/open-ocr-cli-mcp's Dockerfile (no
# registry is reachable from the machines this project is built on, so it was not read from one).
# Renew both lines together.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# Build stage: install everything, build the lib and the apps with the Nest CLI, drop dev deps.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/dist-core/package.json libs/dist-core/
COPY libs/order-flow-api/package.json libs/order-flow-api/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json nest-cli.json ./
COPY scripts/nest scripts/nest
COPY libs libs
COPY apps apps
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled JavaScript and production node_modules only. The libs are reached the
# same way as in a native run: node_modules/@app/dist-core links to libs/dist-core and
# node_modules/@app/order-flow-api to libs/order-flow-api (npm workspaces).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# In a container the port is published through the container's own interface, not loopback.
ENV HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/dist-core/package.json libs/dist-core/
COPY --from=build /app/libs/dist-core/dist libs/dist-core/dist
COPY --from=build /app/libs/order-flow-api/package.json libs/order-flow-api/
COPY --from=build /app/libs/order-flow-api/dist libs/order-flow-api/dist
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
