// How a step's activity carries out its StatusPlan: `before` every attempt, the outcome numbered
// from nextSeq, a deferred success returned unpublished, a business failure always published.
import { ApplicationFailure } from '@temporalio/activity';
import { outcomeEntries, PlanPublisher, withThen } from '../../activities/status-plan';
import { MemoryStatusPublisher } from '../../activities/status-publisher';
import type { Order } from '../../common/order';
import type { StatusPlan } from '../../common/status';

const order = { orderId: 'o1', item: 'Keyboard', price: 10, quantity: 1 } as Order;
const before = [{ orderId: 'o1', seq: 4, status: 'CHARGING' as const, at: 1 }];

function setup(): { sink: MemoryStatusPublisher; plans: PlanPublisher } {
  const sink = new MemoryStatusPublisher();
  return { sink, plans: new PlanPublisher(sink) };
}

describe('PlanPublisher', () => {
  test('before publishes the plan’s before events, and nothing without a plan', async () => {
    const { sink, plans } = setup();
    await plans.before(order, undefined);
    expect(sink.events).toEqual([]);
    await plans.before(order, { before, nextSeq: 5 });
    await plans.before(order, { before, nextSeq: 5 });
    expect(sink.events).toEqual([...before, ...before]);
  });

  test('an order with a statusPartition (partition routing) has its before and outcome events published there', async () => {
    const { sink, plans } = setup();
    const routed: Order = { ...order, statusPartition: 3 };
    await plans.before(routed, { before, nextSeq: 5 });
    await plans.outcome(routed, { before, nextSeq: 5 }, [{ status: 'CHARGED' }]);
    await plans.outcome(order, { before, nextSeq: 6 }, [{ status: 'SHIPPED' }]);
    expect(sink.partitions).toEqual([3, 3, undefined]);
  });

  test('outcome is numbered from nextSeq and returned as entries', async () => {
    const { sink, plans } = setup();
    const plan: StatusPlan = { before, nextSeq: 5, then: { status: 'COMPLETED' } };
    const entries = await plans.outcome(order, plan, withThen(plan, { status: 'SHIPPED', detail: 't-1' }));
    expect(entries.map((e) => e.status)).toEqual(['SHIPPED', 'COMPLETED']);
    expect(sink.events.map((e) => [e.seq, e.status, e.detail])).toEqual([
      [5, 'SHIPPED', 't-1'],
      [6, 'COMPLETED', undefined],
    ]);
  });

  test('a deferred successful outcome is returned but not published', async () => {
    const { sink, plans } = setup();
    const entries = await plans.outcome(order, { before, nextSeq: 5, deferOutcome: true }, [{ status: 'VALIDATED' }]);
    expect(entries.map((e) => e.status)).toEqual(['VALIDATED']);
    expect(sink.events).toEqual([]);
  });

  test('without a plan the outcome is neither published nor returned', async () => {
    const { sink, plans } = setup();
    expect(await plans.outcome(order, undefined, [{ status: 'VALIDATED' }])).toEqual([]);
    expect(sink.events).toEqual([]);
  });

  test('a business failure publishes its state even when successes are deferred, then throws it', async () => {
    const { sink, plans } = setup();
    const plan: StatusPlan = { before, nextSeq: 5, deferOutcome: true };
    const failure = await plans
      .businessFailure(order, plan, { type: 'REJECTED', status: 'REJECTED' }, 'out of stock')
      .catch((e) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('REJECTED');
    expect(failure.details[0].statuses.map((s: { status: string }) => s.status)).toEqual(['REJECTED']);
    expect(sink.events.map((e) => [e.seq, e.status, e.detail])).toEqual([[5, 'REJECTED', 'out of stock']]);
  });
});

describe('withThen and outcomeEntries', () => {
  test('then follows the outcome only when the plan has one', () => {
    expect(withThen(undefined, { status: 'CHARGED' })).toEqual([{ status: 'CHARGED' }]);
    expect(
      withThen({ before: [], nextSeq: 1, then: { status: 'CANCELLED', detail: 'd' } }, { status: 'REFUNDED' }),
    ).toEqual([{ status: 'REFUNDED' }, { status: 'CANCELLED', detail: 'd' }]);
  });

  test('entries share one timestamp and omit absent details', () => {
    const entries = outcomeEntries([{ status: 'SHIPPED', detail: 't' }, { status: 'COMPLETED' }], 42);
    expect(entries).toEqual([
      { status: 'SHIPPED', at: 42, detail: 't' },
      { status: 'COMPLETED', at: 42 },
    ]);
    expect('detail' in entries[1]).toBe(false);
  });
});
