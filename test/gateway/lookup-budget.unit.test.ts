// The budget of Temporal calls the gateway makes for clients (gateway/lookup-budget.ts), without
// servers: the global limits on calls at once and per second, each customer's share of both, what a
// look-up is charged and when its places are freed, and the separate bucket of background work.
import {
  BusyError,
  LookupBudget,
  LookupTicket,
  MAX_LOOKUP_COST,
  SHARE_BURST_SECONDS,
  SLOT_RETRY_MS,
} from '../../gateway/lookup-budget';

/** A budget on a clock the test moves. */
function budgetOf(settings: { inFlight: number; perSecond: number; sharePercent: number }) {
  let now = 0;
  const budget = new LookupBudget(settings, () => now);
  return {
    budget,
    advance: (ms: number) => (now += ms),
    stop: () => budget.stop(),
  };
}

const ONE_CALL = { calls: 1, atOnce: 1 };

function ticketOf(admission: ReturnType<LookupBudget['admit']>): LookupTicket {
  if (!('ticket' in admission)) throw new Error(`refused, retry in ${admission.retryAfterMs} ms`);
  return admission.ticket;
}

describe('LookupBudget', () => {
  test('global calls per second: admitted while the bucket holds the cost, then BUSY with the time until it does', () => {
    const { budget, advance, stop } = budgetOf({ inFlight: 100, perSecond: 10, sharePercent: 100 });
    for (let i = 0; i < 5; i += 1) {
      const ticket = ticketOf(budget.admit('alice', { calls: 2, atOnce: 1 }));
      ticket.take()();
      ticket.take()();
      ticket.end();
    }
    const refused = budget.admit('alice', { calls: 2, atOnce: 1 });
    // 10 calls/s: 2 more take 200 ms.
    expect(refused).toEqual({ retryAfterMs: 200 });
    advance(199);
    expect('retryAfterMs' in budget.admit('alice', { calls: 2, atOnce: 1 })).toBe(true);
    advance(1);
    expect('ticket' in budget.admit('alice', { calls: 2, atOnce: 1 })).toBe(true);
    stop();
  });

  test('global calls at once: a look-up holds its places until it has ended and its calls have finished, even after the answer', () => {
    const { budget, stop } = budgetOf({ inFlight: 4, perSecond: 1000, sharePercent: 100 });
    const a = ticketOf(budget.admit('alice', { calls: 3, atOnce: 2 }));
    const b = ticketOf(budget.admit('bob', { calls: 3, atOnce: 2 }));
    expect(budget.callsInFlight).toBe(4);
    expect(budget.admit('carol', ONE_CALL)).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    // a's describe is still running when its client is answered (Temporal slow): its places stay taken.
    const releaseCall = a.take();
    a.end();
    expect(budget.admit('carol', ONE_CALL)).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    releaseCall();
    expect(budget.callsInFlight).toBe(2);
    ticketOf(budget.admit('carol', { calls: 1, atOnce: 2 })).end();
    b.end();
    expect(budget.callsInFlight).toBe(0);
    stop();
  });

  test("per customer: one customer's flood is refused at its share while another customer is still admitted", () => {
    // 40 calls/s and 8 at once in all; a customer may use a quarter: 10 calls/s (bursts of three seconds' worth), 2 at once.
    const { budget, stop } = budgetOf({ inFlight: 8, perSecond: 40, sharePercent: 25 });
    expect(SHARE_BURST_SECONDS).toBe(3);
    const cost = { calls: 3, atOnce: 1 };
    const alice = [budget.admit('alice', cost), budget.admit('alice', cost)];
    expect(alice.every((a) => 'ticket' in a)).toBe(true);
    // Her two places are taken: a third look-up waits, whatever the global budget has left.
    expect(budget.admit('alice', cost)).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    for (const a of alice) ticketOf(a).end();
    // Her places are free again; 6 of her 30 calls are spent: 8 more look-ups fit, then 3 calls take 300 ms.
    let more = 0;
    for (let a = budget.admit('alice', cost); 'ticket' in a; a = budget.admit('alice', cost), more += 1) a.ticket.end();
    expect(more).toBe(8);
    expect(budget.admit('alice', cost)).toEqual({ retryAfterMs: 300 });
    // Bob's share is his own.
    for (let i = 0; i < 2; i += 1) expect('ticket' in budget.admit('bob', cost)).toBe(true);
    stop();
  });

  test('without the share, one customer alone would take the whole budget (what the per-customer test relies on)', () => {
    const { budget, stop } = budgetOf({ inFlight: 4, perSecond: 40, sharePercent: 100 });
    ticketOf(budget.admit('alice', { calls: 3, atOnce: 2 }));
    ticketOf(budget.admit('alice', { calls: 3, atOnce: 2 }));
    expect(budget.admit('bob', { calls: 3, atOnce: 2 })).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    stop();
  });

  test("a customer's share is charged the whole reservation whatever its calls were; the global budget gets back the calls not made", () => {
    const { budget, stop } = budgetOf({ inFlight: 100, perSecond: 20, sharePercent: 50 });
    // Alice's share: 10 calls/s, 30 at once. Look-ups of 3 calls reserved, none made (answered from the
    // caches): her share is spent after 10 of them. (A global budget that kept the unmade calls, 20,
    // would have stopped her after 6.)
    let admitted = 0;
    for (
      let a = budget.admit('alice', { calls: 3, atOnce: 1 });
      'ticket' in a;
      a = budget.admit('alice', { calls: 3, atOnce: 1 })
    ) {
      a.ticket.end();
      admitted += 1;
    }
    expect(admitted).toBe(10);
    // The global budget got every unmade call back: Bob's look-ups, making their calls, still fit.
    for (let i = 0; i < 6; i += 1) {
      const bob = ticketOf(budget.admit('bob', { calls: 3, atOnce: 1 }));
      for (let c = 0; c < 3; c += 1) bob.take()();
      bob.end();
    }
    stop();
  });

  test("answered() frees the customer's places at once, while the global ones wait for end() and the calls", () => {
    const { budget, stop } = budgetOf({ inFlight: 100, perSecond: 1000, sharePercent: 2 });
    // Alice's share: 2 places (never less than the largest look-up).
    const first = ticketOf(budget.admit('alice', { calls: 3, atOnce: 2 }));
    expect(budget.admit('alice', ONE_CALL)).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    const release = first.take();
    first.answered();
    expect('ticket' in budget.admit('alice', ONE_CALL)).toBe(true);
    expect(budget.callsInFlight).toBe(3);
    first.end();
    release();
    expect(budget.callsInFlight).toBe(1);
    stop();
  });

  test('a share is never smaller than the largest look-up, so a small setting never refuses one forever', () => {
    const { budget, stop } = budgetOf({ inFlight: 2, perSecond: 4, sharePercent: 1 });
    expect('ticket' in budget.admit('alice', MAX_LOOKUP_COST)).toBe(true);
    stop();
  });

  test("background work (routing's re-describes) is charged call by call to a bucket of its own: refused with BusyError when spent, without touching the customer's look-ups", () => {
    const { budget, advance, stop } = budgetOf({ inFlight: 100, perSecond: 40, sharePercent: 25 });
    const background = budget.background('alice');
    // Alice's share: 10 calls/s, 30 at once.
    for (let i = 0; i < 30; i += 1) background.take()();
    let refusal: unknown;
    try {
      background.take();
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(BusyError);
    expect((refusal as BusyError).retryAfterMs).toBe(100);
    // Her own look-ups still have their whole share (the global budget has 10 calls left: 3 look-ups).
    for (let i = 0; i < 3; i += 1) ticketOf(budget.admit('alice', { calls: 3, atOnce: 1 })).end();
    advance(100);
    expect(() => background.take()()).not.toThrow();
    stop();
  });

  test('background calls count toward the global budget: with it spent, look-ups are BUSY', () => {
    const { budget, stop } = budgetOf({ inFlight: 3, perSecond: 1000, sharePercent: 100 });
    const releases = ['alice', 'bob', 'carol'].map((party) => budget.background(party).take());
    expect(budget.admit('dave', ONE_CALL)).toEqual({ retryAfterMs: SLOT_RETRY_MS });
    expect(() => budget.background('dave').take()).toThrow(BusyError);
    for (const release of releases) release();
    expect('ticket' in budget.admit('dave', ONE_CALL)).toBe(true);
    stop();
  });

  test('a look-up that makes more calls than it reserved is charged like background work for the rest', () => {
    const { budget, stop } = budgetOf({ inFlight: 100, perSecond: 100, sharePercent: 4 });
    const ticket = ticketOf(budget.admit('alice', ONE_CALL));
    ticket.take()();
    // Alice's background bucket holds 12 calls (4/s, three seconds' worth): the 13th extra call is refused.
    for (let i = 0; i < 12; i += 1) ticket.take()();
    expect(() => ticket.take()).toThrow(BusyError);
    ticket.end();
    stop();
  });
});
