/**
 * The published JSON Schemas (draft-07, zod 4's z.toJSONSchema), one per client frame, server frame,
 * Kafka event and Kafka header set, from the zod schemas the code validates with. tools/dev/contract.ts
 * writes them to docs/schemas/ and inlines them in docs/asyncapi.yaml.
 */
import { z } from 'zod';
import { TOPICS } from '../../common/names';
import { CLIENT_FRAME_DATA } from '../../common/client-frames';
import { OrderPlacedEvent } from '../../common/order';
import { SERVER_FRAME_DATA, TRACEPARENT_PATTERN } from '../../common/protocol';
import { StatusEventSchema } from '../../common/status-schemas';

/** The headers the bridge adds to a dead-lettered event (its key and value are the original's, unchanged). */
export const DlqHeadersSchema = z
  .object({
    'dlq-reason': z.string().meta({
      description:
        "why the bridge refused the event, e.g. 'not JSON', 'schema: payload.order.price: …', 'unknown schemaVersion 2 (this bridge reads 1)'",
    }),
    'dlq-original-topic': z.string(),
    'dlq-original-partition': z.string().regex(/^\d+$/),
    'dlq-original-offset': z.string().regex(/^\d+$/),
    'dlq-at': z.string().meta({ description: 'ISO 8601 time the bridge dead-lettered it' }),
  })
  .meta({ title: 'order-placement.dlq headers' });

/** W3C trace context on order-placement and order-status messages when tracing is on (docs/TRACING.md). */
export const TraceHeadersSchema = z
  .object({
    traceparent: z
      .string()
      .regex(TRACEPARENT_PATTERN)
      .optional()
      .meta({ description: 'W3C Trace Context: the producing span (the consumer continues the trace)' }),
    tracestate: z.string().optional().meta({ description: 'W3C Trace Context tracestate, when there is one' }),
    eventId: z.string().optional().meta({ description: "order-placement only: the event's id (also in the value)" }),
  })
  .meta({ title: 'order-placement and order-status headers' });

type Io = 'input' | 'output';

export function jsonSchema(schema: z.ZodType, io: Io): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-7', io }) as Record<string, unknown>;
}

/** A frame as it travels on the raw WebSocket: the {"event", "data"} envelope. */
function envelope(event: string, data: z.ZodType, title: string): z.ZodType {
  return z.strictObject({ event: z.literal(event), data }).meta({ title });
}

export interface SchemaFile {
  name: string;
  schema: Record<string, unknown>;
}

/** Every published schema, by file name. */
export function schemaFiles(): SchemaFile[] {
  const files: SchemaFile[] = [];
  for (const [event, data] of Object.entries(CLIENT_FRAME_DATA)) {
    files.push({
      name: `client.${event}.json`,
      schema: jsonSchema(envelope(event, data, `client frame ${event}`), 'input'),
    });
  }
  for (const [event, data] of Object.entries(SERVER_FRAME_DATA)) {
    files.push({
      name: `server.${event}.json`,
      schema: jsonSchema(envelope(event, data, `server frame ${event}`), 'output'),
    });
  }
  // order-placement: what the bridge accepts (the seed's events, without quantity or version, included).
  files.push({
    name: `kafka.${TOPICS.orderPlacement}.json`,
    schema: jsonSchema(OrderPlacedEvent.meta({ title: 'order-placement event (ORDER_PLACED)' }), 'input'),
  });
  files.push({ name: `kafka.${TOPICS.orderStatus}.json`, schema: jsonSchema(StatusEventSchema, 'output') });
  files.push({ name: 'kafka.headers.json', schema: jsonSchema(TraceHeadersSchema, 'output') });
  files.push({
    name: `kafka.${TOPICS.orderPlacementDlq}.headers.json`,
    schema: jsonSchema(DlqHeadersSchema, 'output'),
  });
  return files;
}
