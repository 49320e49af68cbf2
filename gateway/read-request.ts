/**
 * How a transport's bytes become a request: the raw WebSocket frame or the Socket.IO event is
 * checked against the {"event", "data"} envelope; a malformed one becomes the error frame that
 * answers it.
 */
import type { RawData } from 'ws';
import { describeZodError } from '../common/order';
import { ClientFrame, ErrorCode, errorFrame, ServerFrame } from '../common/protocol';

/** A request as a transport read it: an event name and its data, or the error frame that answers a malformed one. */
export type ReadRequest = { event: string; data: unknown } | { error: ServerFrame };

/** How a request is answered: the transport sends the frame (Socket.IO also passes it to the ack callback). */
export type Reply = (frame: ServerFrame) => void;

/** An order id claimed by a frame that may not parse, cut to the protocol's length, or null. */
export function claimedOrderId(data: unknown): string | null {
  const orderId = (data as { orderId?: unknown } | null)?.orderId;
  return typeof orderId === 'string' ? orderId.slice(0, 64) : null;
}

/** The raw WebSocket transport's parsing: a JSON text frame of the {"event", "data"} envelope. */
export function readWsFrame(raw: RawData, isBinary: boolean): ReadRequest {
  if (isBinary) return { error: errorFrame(ErrorCode.badFrame, 'binary frames are not accepted: send JSON text') };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { error: errorFrame(ErrorCode.badJson, 'frame is not valid JSON') };
  }
  return readEnvelope(json);
}

/** Checks the {"event", "data"} envelope (both transports end here). */
export function readEnvelope(json: unknown): ReadRequest {
  const frame = ClientFrame.safeParse(json);
  if (!frame.success) {
    return {
      error: errorFrame(
        ErrorCode.badFrame,
        `expected {"event": string, "data": ...}: ${describeZodError(frame.error).message}`,
      ),
    };
  }
  return { event: frame.data.event, data: frame.data.data };
}
