/**
 * The codec server's process (`npm run codec-server`; `npm start` runs it): the Temporal UI's and
 * CLI's `/decode` and `/encode` (./server) over the app's own payload codec and key store
 * (common/codec), so that a developer sees decoded orders in the UI and an operator can point a
 * Temporal Cloud UI at it (docs/DEPLOYING.md). Bound to loopback by default, where it asks for no
 * token; beyond loopback it needs the gateway's JWT settings (./access). With CODEC_SERVER_HEALTH_PORT
 * set, /livez, /readyz and /metrics on its admin listener.
 */
import type { PayloadCodec } from '@temporalio/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startAdminListener, type AdminListener } from '../common/admin-listener';
import { customerRefOfKeyId, createPayloadCodec, KeyDestroyedError, keyIdOf, payloadPrivacyOf } from '../common/codec';
import { loadConfig } from '../common/config';
import { initLogger, logger, type Logger } from '../common/logger';
import { drainOnSignal } from '../common/shutdown';
import { authenticatorForHost, authorizeByKeyOwner, identifyWith } from './access';
import { createCodecServer } from './server';

let log: Logger = logger();

/** With payload encryption off nothing is sealed: payloads pass as they are, both ways. */
const PASS_THROUGH: PayloadCodec = { encode: async (p) => p, decode: async (p) => p };

async function main(): Promise<void> {
  const config = loadConfig();
  log = initLogger('codec-server', { level: config.logLevel, format: config.logFormat });
  const settings = config.codecServer;
  const authenticator = authenticatorForHost(settings.host, config.gatewayAuth);
  const keyStore = payloadPrivacyOf(config.payloadEncryption).keyStore;
  if (!keyStore) log.warn('payload encryption is off (PAYLOAD_ENCRYPTION=off): payloads are answered as they are');

  const server = createCodecServer({
    codec: keyStore ? createPayloadCodec(keyStore) : PASS_THROUGH,
    identify: identifyWith(authenticator),
    authorize: authorizeByKeyOwner((payload) => {
      const keyId = keyIdOf(payload);
      return keyId === undefined ? undefined : customerRefOfKeyId(keyId);
    }),
    keyDestroyed: (err) => err instanceof KeyDestroyedError,
    allowedOrigins: settings.allowedOrigins,
    maxBodyBytes: settings.maxBodyBytes,
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let admin: AdminListener | undefined;
  if (settings.healthPort !== undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    admin = await startAdminListener({ host: settings.healthHost, port: settings.healthPort, registry, checks: [] });
  }
  log.info(
    { origins: settings.allowedOrigins, auth: authenticator ? 'jwt' : 'none (loopback)' },
    `codec server on http://${settings.host}:${settings.port} (/decode, /encode) for ${settings.allowedOrigins.join(', ')}` +
      (authenticator ? ', tokens required' : ', no token on loopback'),
  );
  drainOnSignal(log, 'closing the codec server', async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await admin?.close();
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, `codec server failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
