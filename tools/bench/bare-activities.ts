/** The bare-engine ceiling's activity: returns at once (its cost is the engine's, not ours). */

export const BARE_TASK_QUEUE = 'bench-bare';

export function createBareActivities(): { noop(step: number): Promise<number> } {
  return {
    async noop(step: number): Promise<number> {
      return step;
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
