/** What the CLI prints: where lines go, status lines, the end of an order, the Temporal UI link. */
import { TRACE_ID_MARK } from '../common/names';
import type { StatusEvent } from './order-client';
import type { OrderOutcome } from './outcomes';

export interface Output {
  /** Progress and results (stdout in the CLI). */
  out: (line: string) => void;
  /** Diagnostics (stderr in the CLI). */
  err: (line: string) => void;
}

export const consoleOutput: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};
export const silentOutput: Output = { out: () => undefined, err: () => undefined };

/** An order's trace in the trace viewer: the gateway's link template with the id in place of its mark. */
export function traceUrl(traceUrlTemplate: string, traceId: string): string {
  return traceUrlTemplate.split(TRACE_ID_MARK).join(encodeURIComponent(traceId));
}

export function temporalRunUrl(temporalUiUrl: string, namespace: string, workflowId: string): string {
  return `${temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function clock(at: number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '--:--:--.---';
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** One status as printed; an AMENDED one shows the order's new values after its detail. */
export function statusLine(e: StatusEvent): string {
  const values = e.order ? ` → ${e.order.quantity} × "${e.order.item}" at ${e.order.price.toFixed(2)}` : '';
  return `  ${clock(e.at)}  #${String(e.seq).padEnd(3)} ${e.status.padEnd(17)}${e.detail ? ` ${e.detail}` : ''}${values}`.trimEnd();
}

export function reportEnd(o: OrderOutcome, output: Output): void {
  if (o.outcome === 'GATEWAY_ERROR' || o.outcome === 'TIMEOUT' || o.outcome === 'CONNECTION') {
    output.err(`✗ ${o.orderId ? `order ${o.orderId}: ` : ''}${o.message}`);
    return;
  }
  const mark = o.outcome === 'COMPLETED' ? '✓' : '✗';
  const last = o.events.at(-1);
  const extra: string[] = [];
  if (o.view?.chargeId) extra.push(`charge ${o.view.chargeId}`);
  if (o.view?.trackingId) extra.push(`tracking ${o.view.trackingId}`);
  if (o.view?.failure) extra.push(`${o.view.failure.type}: ${o.view.failure.message}`);
  else if (o.outcome !== 'COMPLETED' && last?.detail) extra.push(last.detail);
  output.out(`${mark} order ${o.orderId} ${o.outcome}${extra.length ? ` (${extra.join(', ')})` : ''}`);
}
