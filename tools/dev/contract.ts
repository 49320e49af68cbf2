/**
 * `npm run contract`: writes the published contract from the zod schemas the code validates with:
 *  - docs/schemas/*.json: one JSON Schema per client frame, server frame and Kafka event
 *    (order-placement, order-status, order-placement.dlq), made by ./contract-schemas;
 *  - docs/asyncapi.yaml: an AsyncAPI 3 document of the WebSocket channel (raw WebSocket and Socket.IO)
 *    and the three topics, with the same schemas inline;
 *  - web/common.js: the page's copy of the status names and sets, the retryable error codes and
 *    the status push's JSON Schema (the page is plain ES modules with no build step), made by
 *    ./contract-page.
 * test/common/contract.unit.test.ts fails when the committed files differ from what this generates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_PORTS } from '../infra/ports';
import { PROJECT_ROOT } from '../../common/config';
import { TOPICS } from '../../common/names';
import { SCHEMA_VERSION } from '../../common/order';
import { CloseCode, SERVER_FRAME_DATA } from '../../common/protocol';
import { STATUS_SCHEMA_VERSION } from '../../common/status';
import { CLIENT_FRAME_DATA } from '../../common/client-frames';
import { schemaFiles, type SchemaFile } from './contract-schemas';
import { pageModule } from './contract-page';

export const DOCS_DIR = path.join(PROJECT_ROOT, 'docs');
export const SCHEMA_DIR = path.join(DOCS_DIR, 'schemas');

/** An AsyncAPI operation on a channel: its messages given as refs, or as the one message of the channel named. */
function operation(
  action: 'send' | 'receive',
  channel: string,
  summary: string,
  messages: Array<{ $ref: string }> | string,
): Record<string, unknown> {
  return {
    action,
    channel: { $ref: `#/channels/${channel}` },
    summary,
    messages: typeof messages === 'string' ? [{ $ref: `#/channels/${channel}/messages/${messages}` }] : messages,
  };
}

/** A schema for inlining in AsyncAPI (which names its own schema format): without its $schema. */
function inline(schema: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...schema };
  delete rest.$schema;
  return rest;
}

/** A JSON message on a Kafka topic: its key (described), the common headers, the topic's value schema. */
function kafkaMessage(
  topic: string,
  name: string,
  title: string,
  summary: string,
  key: string,
): Record<string, unknown> {
  return {
    name,
    title,
    summary,
    contentType: 'application/json',
    bindings: { kafka: { key: { type: 'string', description: key } } },
    headers: { $ref: '#/components/schemas/kafka.headers' },
    payload: { $ref: `#/components/schemas/kafka.${topic}` },
  };
}

function asyncApi(files: SchemaFile[]): Record<string, unknown> {
  const byName = new Map(files.map((f) => [f.name, inline(f.schema)]));
  const messages: Record<string, unknown> = {};
  const wsMessages: Record<string, unknown> = {};
  const clientRefs: Array<{ $ref: string }> = [];
  const serverRefs: Array<{ $ref: string }> = [];
  for (const [side, names] of [
    ['client', Object.keys(CLIENT_FRAME_DATA)],
    ['server', Object.keys(SERVER_FRAME_DATA)],
  ] as const) {
    for (const event of names) {
      const id = `${side}_${event}`;
      messages[id] = {
        name: event,
        title: `${event} (${side === 'client' ? 'client → gateway' : 'gateway → client'})`,
        summary:
          'Raw WebSocket: this {event, data} envelope as one JSON text frame. Socket.IO: an event named `event` whose one argument is `data`' +
          (side === 'client' ? ' (an optional ack callback receives the answer as the {event, data} frame).' : '.'),
        contentType: 'application/json',
        payload: { $ref: `#/components/schemas/${side}.${event}` },
      };
      wsMessages[id] = { $ref: `#/components/messages/${id}` };
      (side === 'client' ? clientRefs : serverRefs).push({ $ref: `#/channels/orders/messages/${id}` });
    }
  }
  messages.orderPlaced = kafkaMessage(
    TOPICS.orderPlacement,
    'ORDER_PLACED',
    'An order, as the gateway writes it and the bridge reads it',
    `The seed's event shape plus eventId and schemaVersion (${SCHEMA_VERSION}). Events of another schemaVersion go to the DLQ.`,
    'orderId (absent in the seed producer’s events)',
  );
  messages.orderStatus = kafkaMessage(
    TOPICS.orderStatus,
    'orderStatus',
    'One state change of one order',
    `Published by the worker (schemaVersion ${STATUS_SCHEMA_VERSION}) at least once; consumers drop repeats by seq.`,
    'orderId',
  );
  messages.deadLetter = {
    name: 'deadLetter',
    title: 'An order-placement event the bridge could not take',
    summary:
      'Key and value exactly as they were on order-placement (any bytes); the reason and origin are in the headers.',
    headers: { $ref: `#/components/schemas/kafka.${TOPICS.orderPlacementDlq}.headers` },
    payload: { description: 'the original message value, unchanged' },
  };

  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of byName) schemas[name.replace(/\.json$/, '')] = schema;

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'order-orchestrator',
      version: '1.0.0',
      description:
        'Orders placed over WebSocket (raw or Socket.IO), carried by Kafka, run by Temporal. Generated by `npm run contract` from the zod schemas ' +
        'the code validates with; the JSON Schemas are also in docs/schemas/. Auth (optional): docs/PROTOCOL.md "Auth modes"; a session whose token ' +
        `expires is closed with WebSocket code ${CloseCode.tokenExpired} (Socket.IO: an error event TOKEN_EXPIRED, then a disconnect).`,
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: {
        host: `127.0.0.1:${DEFAULT_PORTS.gateway}`,
        pathname: '/',
        protocol: 'ws',
        description:
          'Raw WebSocket: one JSON text frame per message, {"event", "data"} (the NestJS ws-adapter envelope). Token: Authorization: Bearer, or a `bearer.<token>` subprotocol next to `orders.v1`.',
      },
      socketio: {
        host: `127.0.0.1:${DEFAULT_PORTS.gateway}`,
        pathname: '/socket.io/',
        protocol: 'ws',
        protocolVersion: 'Socket.IO 4 (Engine.IO 4; WebSocket or HTTP long-polling)',
        description:
          'Socket.IO on the same port: events named like the frames, data as the one argument. Token: handshake auth.token or Authorization: Bearer.',
      },
      kafka: { host: `127.0.0.1:${DEFAULT_PORTS.kafka}`, protocol: 'kafka', description: 'The app’s Kafka cluster.' },
    },
    channels: {
      orders: {
        address: '/',
        title: 'The gateway’s order channel',
        servers: [{ $ref: '#/servers/websocket' }, { $ref: '#/servers/socketio' }],
        messages: wsMessages,
      },
      orderPlacement: {
        address: TOPICS.orderPlacement,
        servers: [{ $ref: '#/servers/kafka' }],
        messages: { orderPlaced: { $ref: '#/components/messages/orderPlaced' } },
      },
      orderStatus: {
        address: TOPICS.orderStatus,
        servers: [{ $ref: '#/servers/kafka' }],
        messages: { orderStatus: { $ref: '#/components/messages/orderStatus' } },
      },
      orderPlacementDlq: {
        address: TOPICS.orderPlacementDlq,
        servers: [{ $ref: '#/servers/kafka' }],
        messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
      },
    },
    operations: {
      receiveClientRequests: operation('receive', 'orders', 'The gateway takes client requests.', clientRefs),
      sendServerFrames: operation('send', 'orders', 'The gateway answers and pushes status changes.', serverRefs),
      publishOrderPlaced: operation(
        'send',
        'orderPlacement',
        'The gateway writes each accepted order (acks=all) before answering orderAccepted.',
        'orderPlaced',
      ),
      consumeOrderPlaced: operation(
        'receive',
        'orderPlacement',
        'The bridge starts one workflow per order.',
        'orderPlaced',
      ),
      publishOrderStatus: operation('send', 'orderStatus', 'The worker publishes every state change.', 'orderStatus'),
      consumeOrderStatus: operation(
        'receive',
        'orderStatus',
        'Every gateway reads every status change (a consumer group of its own).',
        'orderStatus',
      ),
      deadLetterOrderPlaced: operation(
        'send',
        'orderPlacementDlq',
        'The bridge parks events that are not orders, or of an unknown schemaVersion.',
        'deadLetter',
      ),
    },
    components: { schemas, messages },
  };
}

/** Every generated file, by path relative to the checkout, with its content. */
export function contractFiles(): Map<string, string> {
  const files = schemaFiles();
  const out = new Map<string, string>();
  for (const f of files) out.set(path.join('docs', 'schemas', f.name), `${JSON.stringify(f.schema, null, 2)}\n`);
  out.set(
    path.join('docs', 'asyncapi.yaml'),
    `# Generated by \`npm run contract\` from the zod schemas (tools/dev/contract.ts); do not edit by hand.\n${stringify(asyncApi(files), { lineWidth: 0 })}`,
  );
  out.set(path.join('web', 'common.js'), pageModule());
  return out;
}

function main(): void {
  const files = contractFiles();
  fs.mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const stale of fs.readdirSync(SCHEMA_DIR)) {
    if (!files.has(path.join('docs', 'schemas', stale))) fs.rmSync(path.join(SCHEMA_DIR, stale));
  }
  for (const [rel, content] of files) fs.writeFileSync(path.join(PROJECT_ROOT, rel), content);
  console.log(`wrote ${files.size} files (${[...files.keys()].join(', ')})`);
}

if (require.main === module) main();
