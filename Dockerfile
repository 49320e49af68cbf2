# One image for the three app processes (gateway, bridge, worker); docker-compose.yml picks which
# one a container runs with `command:`. TypeScript runs directly through tsx, as with `npm run ...`.
FROM node:20-slim

WORKDIR /app

# Dependencies first, so editing source does not re-run the install.
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force

COPY . .

# Where the worker's simulated payment ledger lives (SIM_LEDGER_FILE). Created here, owned by the
# unprivileged user, so a named volume mounted on it starts out writable by that user.
RUN mkdir -p /data/ledger && chown -R node:node /data

USER node

# docker-compose.yml overrides this per service.
CMD ["npx", "tsx", "gateway/main.ts"]
