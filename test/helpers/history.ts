import { temporal } from '@temporalio/proto';

/** Event type names of a workflow history, without the EVENT_TYPE_ prefix (e.g. "TIMER_FIRED"). */
export function eventTypeNames(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).map((e) => (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, ''));
}
