// How deploy:check names where a history and the new code part: the event id and type from the
// SDK's determinism violation, the type read from the history itself when it has that event.
import { temporal } from '@temporalio/proto';
import { describeFailure, divergingEventOf, eventTypeName, reasonOf } from '../../tools/deploy/replay-gate';

const EventType = temporal.api.enums.v1.EventType;

/** The message of a DeterminismViolationError as runReplayHistories reports it (SDK 1.24). */
const VIOLATION =
  'Replay failed with a nondeterminism error. This means that the workflow code as written is not compatible with ' +
  'the history that was fed in. Details: Workflow activation completion failed: Failure { failure: Some(Failure { ' +
  'message: "[TMPRL1100] Nondeterminism error: Timer machine does not handle this event: HistoryEvent(id: 5, ' +
  'UpsertWorkflowSearchAttributes)", source: "", stack_trace: "", encoded_attributes: None, cause: None }) }';

const history = temporal.api.history.v1.History.fromObject({
  events: [
    { eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' },
    { eventId: '5', eventType: 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES' },
  ],
});

describe('the first diverging event of a replay failure', () => {
  test('is the event id and type the violation names', () => {
    expect(divergingEventOf(VIOLATION)).toEqual({ id: 5, type: 'UpsertWorkflowSearchAttributes' });
  });

  test("takes the event's type from the history when the history has it", () => {
    const renamed = VIOLATION.replace('UpsertWorkflowSearchAttributes)', 'SomethingElse)');
    expect(divergingEventOf(renamed, history)).toEqual({ id: 5, type: 'UpsertWorkflowSearchAttributes' });
  });

  test('is absent when the message names no event', () => {
    expect(divergingEventOf('Workflow type processOrder is not registered')).toBeUndefined();
  });

  test("the reason is the core's sentence, without the SDK's preamble", () => {
    expect(reasonOf(VIOLATION)).toBe(
      'Timer machine does not handle this event: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)',
    );
    expect(reasonOf('something else')).toBe('something else');
  });

  test('event types are named as the UI names them', () => {
    expect(eventTypeName(EventType.EVENT_TYPE_TIMER_STARTED)).toBe('TimerStarted');
    expect(eventTypeName(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe('WorkflowTaskCompleted');
  });

  test('a failure line names the workflow id, the run, the event and the reason', () => {
    expect(
      describeFailure({
        workflowId: 'order-#101',
        runId: 'r1',
        running: true,
        nondeterminism: true,
        event: { id: 5, type: 'UpsertWorkflowSearchAttributes' },
        reason: 'Timer machine does not handle this event',
      }),
    ).toBe(
      'order-#101 (run r1, running): nondeterminism, first diverging event 5 UpsertWorkflowSearchAttributes: ' +
        'Timer machine does not handle this event',
    );
  });
});
