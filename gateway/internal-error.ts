/**
 * Answers for failures inside the system (Kafka or Temporal unreachable, slow or failing): the
 * client gets a generic message and a correlation id; the detail (the library's error text, which
 * may name internal hosts and ports) goes only to the gateway's log, on a line with the same id.
 */
import * as crypto from 'node:crypto';
import { ErrorCode, ServerFrame } from '../common/protocol';

/** The log line of an internal error: its correlation id first, so the two can be matched. */
export function internalErrorLine(correlationId: string, detail: string): string {
  return `internal error ${correlationId}: ${detail}`;
}

/** Logs `detail` under a fresh correlation id and returns the frame that tells the client only `message` and the id. */
export function internalError(
  log: (line: string) => void,
  code: ErrorCode,
  message: string,
  orderId: string | null,
  detail: string,
): ServerFrame {
  const correlationId = crypto.randomUUID();
  log(internalErrorLine(correlationId, detail));
  return {
    event: 'error',
    data: { code, message: `${message} (correlation id ${correlationId})`, orderId, correlationId },
  };
}

/** The message of whatever was thrown, followed by its causes' (Temporal's errors keep the gRPC failure as the cause). */
export function detailOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth += 1) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}
