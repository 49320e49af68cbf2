/**
 * Deliberate breakages for `npm run test:mutants` (tools/mutants/run.ts). Data only: after a
 * change to the code or to the tests, update `find`/`replace` and `tests` here.
 *
 * Each breakage replaces one exact string (`find` must occur exactly once in `file`, else the run
 * reports BROKEN-DEFINITION) in a scratch copy of the checkout and runs `tests` there; at least one
 * of them must fail. A `tests` entry is a jest path, optionally narrowed to the tests whose full
 * name contains `name` (passed to jest's -t, regex-escaped). Replacements must still type-check
 * (the runner checks with tsc first), so a breakage is caught by behaviour, not by a compile error.
 */

export interface TestRef {
  /** A jest test file, relative to the repository root. */
  file: string;
  /** Part of a test's full name (describe + test); omitted: every test in the file. */
  name?: string;
}

export interface Mutant {
  id: string;
  /** What the breakage does to the product, in a reader's words. */
  description: string;
  /** File to break, relative to the repository root. */
  file: string;
  /** Exact text to replace; must occur exactly once in `file`. */
  find: string;
  replace: string;
  /** Tests that should fail with the breakage applied. */
  tests: TestRef[];
}

export const MUTANTS: Mutant[] = [
  {
    id: 'charge-ignores-idempotency-key',
    description: 'The payment provider ignores the idempotency key of a charge: a retried charge is charged again',
    file: 'activities/simulated.ts',
    find: "if (existing) return { status: 'charged', chargeId: existing.id };",
    replace: 'void existing; // mutant: idempotency lookup switched off',
    tests: [
      { file: 'test/activities/simulated.unit.test.ts', name: 'charge repeated with the same idempotency key' },
      { file: 'test/workflows/process-order.test.ts', name: 'is not charged twice' },
      { file: 'test/workflows/process-order.test.ts', name: 'transient provider failures are retried' },
    ],
  },
  {
    id: 'refund-ignores-idempotency-key',
    description: 'The payment provider ignores the idempotency key of a refund: a retried refund refunds again',
    file: 'activities/simulated.ts',
    find: 'if (existing) return { refundId: existing.id };',
    replace: 'void existing; // mutant: idempotency lookup switched off',
    tests: [
      { file: 'test/activities/simulated.unit.test.ts', name: 'refund repeated with the same idempotency key' },
      { file: 'test/workflows/process-order.test.ts', name: 'refund' },
    ],
  },
  {
    id: 'gateway-answers-before-kafka-ack',
    description: 'The gateway answers orderAccepted before Kafka acknowledged the write',
    file: 'gateway/place-order.ts',
    find: `  try {
    await opts.producer.publish(order);`,
    replace: `  reply({ event: 'orderAccepted', data: { orderId: order.orderId, workflowId: workflowIdFor(order.orderId) } }); // mutant
  try {
    await opts.producer.publish(order);`,
    tests: [
      { file: 'test/gateway/gateway.test.ts', name: 'before it is accepted' },
      { file: 'test/gateway/gateway.test.ts', name: 'KAFKA_UNAVAILABLE' },
    ],
  },
  {
    id: 'bridge-commits-before-start',
    description:
      'The bridge commits a chunk of offsets before starting its workflows (a crash in between loses the orders)',
    file: 'bridge/partition-batch.ts',
    find: `      await Promise.all(chunk.map((m) => handle(batch.partition, m, heartbeat, alive)));
      // The whole chunk is done: everything up to its last offset is safe to commit.
      const last = chunk[chunk.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: commitOffsetAfter(last) },
      ]);`,
    replace: `      const last = chunk[chunk.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: commitOffsetAfter(last) },
      ]);
      await Promise.all(chunk.map((m) => handle(batch.partition, m, heartbeat, alive))); // mutant: after the commit`,
    tests: [
      { file: 'test/bridge/commit.test.ts' },
      { file: 'test/e2e/pipeline.test.ts' },
      // The crash matrix checks "no commit while Temporal is down" (fixed ports: may be excluded).
      { file: 'test/tools/crash-matrix.test.ts', name: 'temporal: every acknowledged order' },
      { file: 'test/tools/crash-matrix.test.ts', name: 'bridge-pair: every acknowledged order' },
    ],
  },
  {
    id: 'workflow-id-reuse-allows-duplicates',
    description: "The bridge starts workflows with ALLOW_DUPLICATE: a finished order's id starts a second run",
    file: 'bridge/starter.ts',
    find: "workflowIdReusePolicy: 'REJECT_DUPLICATE',",
    replace: "workflowIdReusePolicy: 'ALLOW_DUPLICATE', // mutant",
    tests: [{ file: 'test/e2e/pipeline.test.ts', name: 'never reused' }],
  },
  {
    id: 'gateway-accepts-while-shutting-down',
    description:
      'A draining gateway keeps reading placeOrder frames and writing them to Kafka instead of answering SHUTTING_DOWN',
    file: 'gateway/frame-handlers.ts',
    find: `      if (opts.closing()) {`,
    replace: `      if (opts.closing() && Math.random() > 2) { // mutant: never refuses`,
    tests: [{ file: 'test/gateway/draining.test.ts' }, { file: 'test/e2e/shutdown.test.ts', name: 'gateway: SIGTERM' }],
  },
  {
    id: 'refund-never-runs',
    description: 'The saga never runs its compensation: a charged order that fails or is cancelled is not refunded',
    file: 'workflows/order.ts',
    find: '    } else if (charge) {',
    replace: '    } else if (charge && Math.random() > 2) { // mutant: the charge is never refunded',
    tests: [
      { file: 'test/workflows/process-order.test.ts', name: 'shipping refused after payment' },
      { file: 'test/e2e/order-status.test.ts', name: 'cancel after payment' },
    ],
  },
  {
    id: 'refund-runs-twice',
    description: 'The saga runs its compensation twice: the refund activity is executed two times',
    file: 'workflows/order.ts',
    find: `      statuses.adopt(refunded.statuses);`,
    replace: `      statuses.adopt(refunded.statuses);
      await acts.refundPayment.executeWithOptions({ ...REFUND, summary: 'again' }, [order, charge.chargeId, charge.amount]); // mutant: refunded twice`,
    tests: [
      { file: 'test/workflows/process-order.test.ts', name: 'shipping refused after payment' },
      { file: 'test/e2e/order-status.test.ts', name: 'cancel after payment' },
    ],
  },
  {
    id: 'statuses-delivered-out-of-order',
    description: 'The gateway passes on any status event newer than expected at once, instead of filling the gap first',
    file: 'gateway/subscriptions.ts',
    find: `    if (event.seq === progress.nextSeq) {
      this.deliver(sub, orderId, progress, event);`,
    replace: `    if (event.seq >= progress.nextSeq) {
      this.deliver(sub, orderId, progress, event); // mutant: no gap check`,
    tests: [
      { file: 'test/gateway/subscriptions.unit.test.ts' },
      { file: 'test/e2e/order-status.test.ts', name: 'reconnects and subscribes with fromSeq' },
    ],
  },
  {
    id: 'cancel-allowed-after-shipping-started',
    description: 'The cancel update is accepted once shipping started',
    file: 'workflows/order-shared.ts',
    find:
      '        if (SHIPPING_STARTED.includes(view.status))\n' +
      '          throw new Error(`order ${order.orderId} cannot be cancelled: shipping has started`);',
    replace: 'void SHIPPING_STARTED; // mutant: shipping-started guard removed',
    tests: [
      { file: 'test/workflows/cancel.test.ts', name: 'cancel once shipping started' },
      { file: 'test/e2e/order-status.test.ts', name: 'cancel once shipping started' },
    ],
  },
  {
    id: 'dlq-drops-message',
    description: 'The bridge counts a poison message as dead-lettered but never writes it to the DLQ topic',
    file: 'bridge/dead-letter.ts',
    find: `    await this.dlq.send({
      topic: this.dlqTopic,`,
    replace: `    if (Math.random() > 2) await this.dlq.send({ // mutant: never sent
      topic: this.dlqTopic,`,
    tests: [{ file: 'test/e2e/pipeline.test.ts', name: 'goes to the DLQ' }],
  },
  {
    id: 'rate-limiter-lets-everything-through',
    description: 'The per-connection token bucket never refuses a frame',
    file: 'gateway/rate-limit.ts',
    find: 'if (this.tokens < 1) return false;',
    replace: 'if (this.tokens < 1) return true; // mutant',
    tests: [{ file: 'test/gateway/hostile.test.ts', name: 'RATE_LIMITED' }],
  },
  {
    id: 'max-payload-accepts-oversized-frames',
    description: 'The WebSocket server accepts frames up to 64 MiB instead of 64 KiB (no 1009 close)',
    file: 'gateway/server.ts',
    find: 'const maxPayload = opts.maxPayloadBytes ?? 64 * 1024;',
    replace: 'const maxPayload = opts.maxPayloadBytes ?? 64 * 1024 * 1024; // mutant',
    tests: [
      { file: 'test/gateway/gateway.test.ts', name: 'closes the connection with 1009' },
      { file: 'test/gateway/hostile.test.ts', name: 'random and malformed frames' },
    ],
  },
  {
    id: 'worker-ignores-sigterm',
    description: 'The worker process ignores SIGTERM (the SDK installs no shutdown signals; the signal is swallowed)',
    file: 'worker/runtime.ts',
    find: `  return Runtime.install({
    logger:`,
    replace: `  process.on('SIGTERM', () => undefined); // mutant
  return Runtime.install({
    shutdownSignals: [],
    logger:`,
    tests: [{ file: 'test/e2e/shutdown.test.ts', name: 'worker' }],
  },
  {
    id: 'replay-nondeterministic-refund-order',
    description:
      'A non-deterministic workflow change: an extra search-attribute upsert before the refund is scheduled (same statuses, same calls; only the recorded histories can tell)',
    file: 'workflows/order.ts',
    find: `      // Undo the charge; the refund step publishes REFUNDED and then the final state.`,
    replace: `      upsertSearchAttributes([{ key: OrderStatusKey, value: 'REFUNDING' }]); // mutant: a new command before the refund`,
    tests: [{ file: 'test/workflows/replay.test.ts', name: 'replays without nondeterminism' }],
  },
  {
    id: 'statuses-published-out-of-order',
    description: "Steps publish the states the workflow handed them (the plan's before) late, after their outcome",
    file: 'activities/status-plan.ts',
    find: `    if (plan) await this.statusPublisher.publish(plan.before, order.statusPartition);`,
    replace: `    if (plan) setTimeout(() => void this.statusPublisher.publish(plan.before, order.statusPartition), 50); // mutant: published late`,
    tests: [
      { file: 'test/workflows/process-order.test.ts', name: 'happy path' },
      { file: 'test/workflows/process-order.test.ts', name: 'keep their order and seq' },
    ],
  },
  {
    id: 'supervisor-never-restarts',
    description: 'npm start: a unit that died is logged but never started again',
    file: 'tools/dev/supervisor.ts',
    find: `      await Promise.race([sleep(delay), this.stopped]);
      if (this.stopping) return;`,
    replace: `      await Promise.race([sleep(delay), this.stopped]);
      return; // mutant: no restart`,
    tests: [{ file: 'test/tools/supervisor.unit.test.ts' }, { file: 'test/tools/start-supervision.test.ts' }],
  },
  {
    id: 'start-leaves-servers-unsupervised',
    description: 'npm start supervises the apps only: a Kafka or Temporal server it started stays down',
    file: 'tools/dev/start.ts',
    find: `for (const s of stopping ? [] : infra.started) {`,
    replace: `for (const s of [] as Server[]) { // mutant: servers unsupervised`,
    tests: [{ file: 'test/tools/start-supervision.test.ts' }],
  },
];
