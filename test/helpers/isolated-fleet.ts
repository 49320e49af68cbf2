/**
 * An isolated stack of a test file's own (Kafka and Temporal on ports of its own, PostgreSQL under
 * Temporal with the postgres engine) and a Fleet of app processes on it: started in beforeAll,
 * stopped in afterAll (the fleet's processes first, then the servers, even when stopping the fleet
 * fails). Call at the top level of a test file; read `stack` and `fleet` inside tests and hooks.
 */
import { Fleet } from '../../tools/chaos/fleet';
import { IsolatedStack, type IsolatedStackOptions } from '../../tools/chaos/isolated-stack';
import { freeLowPort } from '../../tools/infra/proc';

export interface IsolatedFleetOptions extends Omit<IsolatedStackOptions, 'ports' | 'log'> {
  /** Prefix of the file's log lines on stderr, e.g. `multi`. */
  name: string;
  /**
   * Free ports below the ephemeral range (nothing else takes them while Kafka starts, and the Temporal
   * server on PostgreSQL stores its ports as smallint) instead of the isolated stack's fixed ones.
   */
  freeLowPorts?: boolean;
  /** The beforeAll budget: the servers' cold start (and, for the postgres engine, a first build). */
  startTimeoutMs?: number;
  /** Partition routing on for the fleet's gateways (Fleet's `statusRouting`). */
  statusRouting?: boolean;
  /** Runs after the servers are up (e.g. the fleet's first processes). */
  afterStart?: (fleet: Fleet) => Promise<void>;
  /** Runs first in afterAll (e.g. closing the file's clients). */
  beforeStop?: () => Promise<void>;
}

export interface IsolatedFleet {
  readonly stack: IsolatedStack;
  readonly fleet: Fleet;
  log: (line: string) => void;
}

export function useIsolatedFleet(options: IsolatedFleetOptions): IsolatedFleet {
  const {
    name,
    freeLowPorts,
    statusRouting,
    startTimeoutMs = 180_000,
    afterStart,
    beforeStop,
    ...stackOptions
  } = options;
  const log = (line: string): void => void process.stderr.write(`[${name}] ${line}\n`);
  let stack: IsolatedStack | undefined;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    const ports = freeLowPorts
      ? {
          kafka: await freeLowPort(),
          kafkaController: await freeLowPort(),
          temporal: await freeLowPort(),
          temporalUi: await freeLowPort(),
          postgres: await freeLowPort(),
        }
      : undefined;
    stack = await IsolatedStack.start({ ...stackOptions, ports, log });
    fleet = new Fleet(stack, { statusRouting });
    await afterStart?.(fleet);
  }, startTimeoutMs);

  afterAll(async () => {
    try {
      await beforeStop?.();
      await fleet?.stopAll();
    } finally {
      await stack?.stop();
    }
  }, 120_000);

  return {
    get stack(): IsolatedStack {
      if (!stack) throw new Error('the isolated stack is not started (use it inside tests and hooks)');
      return stack;
    },
    get fleet(): Fleet {
      if (!fleet) throw new Error('the fleet is not started (use it inside tests and hooks)');
      return fleet;
    },
    log,
  };
}
