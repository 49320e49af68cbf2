/**
 * zod schemas of the status shapes in ./status (kept apart so that workflow code, which imports
 * ./status, does not bundle zod): the order-status Kafka event, the orderStatus push and the order
 * view. The gateway validates what it reads with them; tools/dev/contract.ts publishes them as JSON Schema.
 */
import { z } from 'zod';
import { MAX_ITEM_LENGTH, MAX_PRICE, MAX_QUANTITY } from './order-values';
import { ORDER_STATUSES, STATUS_SCHEMA_VERSION } from './status';

const orderId = z.string().min(1).max(64);

/**
 * The values an AMENDED event carries. Read, not judged: the workflow checked them with placeOrder's
 * rules before it applied them, so only their types and bounds are stated here.
 */
const OrderValuesSchema = z
  .object({
    item: z.string().min(1).max(MAX_ITEM_LENGTH),
    price: z.number().positive().max(MAX_PRICE),
    quantity: z.number().int().min(1).max(MAX_QUANTITY),
  })
  .meta({ description: "AMENDED events only: the order's item, price and quantity from this change on" });

/** What an orderStatus frame carries: one state change of one order. */
export const StatusPushSchema = z
  .object({
    orderId,
    status: z.enum(ORDER_STATUSES),
    seq: z.number().int().positive().meta({
      description: "1-based position of this change in the order's steps: gap-free, for dedupe and resume (fromSeq)",
    }),
    at: z.number().meta({ description: 'epoch ms (workflow time)' }),
    detail: z.string().optional(),
    order: OrderValuesSchema.optional(),
  })
  .meta({ title: 'Order status change' });

/** The order-status topic's event (key: common/order kafkaKeyOf): the push plus its run and schemaVersion. */
export const StatusEventSchema = StatusPushSchema.extend({
  workflowId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: "the run's workflow id, which consumers route by; absent: order-<orderId>" }),
  schemaVersion: z
    .literal(STATUS_SCHEMA_VERSION)
    .meta({ description: 'version of this event shape; consumers refuse versions they do not know' }),
}).meta({ title: 'order-status event' });

export const OrderViewSchema = z
  .object({
    orderId,
    workflowId: z.string(),
    status: z.enum(ORDER_STATUSES),
    steps: z.array(
      z.object({
        status: z.enum(ORDER_STATUSES),
        at: z.number(),
        detail: z.string().optional(),
        order: OrderValuesSchema.optional(),
      }),
    ),
    chargeId: z.string().optional(),
    trackingId: z.string().optional(),
    failure: z.object({ type: z.string(), message: z.string() }).optional(),
  })
  .meta({ title: "An order's current view (the workflow's status query)" });
