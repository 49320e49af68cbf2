/**
 * Starting a Kafka consumer again after a crash kafkajs does not recover from. kafkajs restarts a
 * consumer by itself only after errors it calls retriable; after any other (a commit refused once
 * the broker forgot the member, say) it stays stopped while the process lives on, and whatever it
 * feeds falls behind for good. The bridge and the order history each hand their CRASH events here.
 */
import type { Consumer } from 'kafkajs';
import { attemptDelay, type Backoff } from './backoff';

export interface ConsumerRestarter {
  /** No restart from now on, and none pending (before disconnecting the consumer). */
  stop(): void;
}

export interface RestartOptions {
  backoff: Backoff;
  log: (line: string) => void;
  /** Called after each successful restart. */
  onRestarted?: () => void;
}

/**
 * Watches `consumer` for crashes kafkajs will not restart from and runs `start` (connect,
 * subscribe, run) again after `backoff`, backing off further while that fails.
 */
export function restartOnCrash(
  consumer: Consumer,
  start: () => Promise<void>,
  opts: RestartOptions,
): ConsumerRestarter {
  const { backoff, log } = opts;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (attempt: number): void => {
    const delay = attemptDelay(attempt, backoff);
    timer = setTimeout(() => {
      if (stopped) return;
      start().then(
        () => {
          opts.onRestarted?.();
          log(`consumer started again after the crash (attempt ${attempt})`);
        },
        (err: unknown) => {
          log(`starting the consumer again failed (${(err as Error).message}); next try in ${delay} ms`);
          if (!stopped) schedule(attempt + 1);
        },
      );
    }, delay);
  };
  consumer.on(consumer.events.CRASH, (e) => {
    log(`consumer crashed (${e.payload.error.message}); kafkajs restarts it: ${e.payload.restart}`);
    if (!e.payload.restart && !stopped) schedule(1);
  });
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
