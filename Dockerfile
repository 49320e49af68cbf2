# One image for the three app processes (gateway, bridge, worker); docker-compose.yml picks which one
# a container runs with `command:` (default: the gateway). Three stages:
#   build  all dependencies, `npm run build`: TypeScript -> dist/, plus the prebuilt workflow bundle;
#   deps   production dependencies only (`npm ci --omit=dev`);
#   final  node_modules from deps + dist/ from build, run with plain `node` as an unprivileged user.
# The build context is an allow-list (.dockerignore): the product folders, never tools/ or test/.
# test/deploy/image.unit.test.ts checks what ends up in the final stage; test/deploy/production.test.ts
# builds and runs exactly the files these COPY lines name.

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs its install script (README "Prerequisites").
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY gateway ./gateway
COPY bridge ./bridge
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY history ./history
COPY codec-server ./codec-server
COPY cli ./cli
COPY web ./web
RUN npm run build

FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Where the worker's simulated payment ledger lives (SIM_LEDGER_FILE). Created here, owned by the
# unprivileged user, so a named volume mounted on it starts out writable by that user.
RUN mkdir -p /data/ledger /data/keys && chown -R node:node /data && chmod 700 /data/keys
USER node
CMD ["node", "dist/gateway/main.js"]
