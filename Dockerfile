# One image for every part: `agent`, `broker` and the controller verbs (hosts, exec, ...).
#   docker build -t conplyent .
#   docker run --rm conplyent agent --broker mqtt://broker.lan:1883 --name web-1 --label role=web

# Build: dev dependencies (TypeScript) compile to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY . .
RUN npx tsc -p tsconfig.json

# Runtime: production dependencies and the compiled output only, as a non-root user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CONPLYENT_STATE_DIR=/var/lib/conplyent
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/conplyent /data && chown node:node /var/lib/conplyent /data
USER node
VOLUME ["/var/lib/conplyent"]
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
