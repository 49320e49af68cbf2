import { temporal } from '@temporalio/proto';

/** Event type names of a workflow history, without the EVENT_TYPE_ prefix (e.g. "TIMER_FIRED"). */
export function eventTypeNames(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).map((e) =>
    (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, ''),
  );
}

/**
 * History <-> JSON for replay fixtures, through protobufjs's own object form (enum names, longs as
 * strings, bytes as base64), which round-trips exactly.
 */
export function historyToFixture(history: temporal.api.history.v1.IHistory): string {
  const message = temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(
    temporal.api.history.v1.History.toObject(message, { longs: String, enums: String, bytes: String }),
    null,
    1,
  );
}

export function historyFromFixture(json: string): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(JSON.parse(json));
}
