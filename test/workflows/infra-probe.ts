// Workflows used only by the infrastructure tests: they prove the servers are real, not the app.
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface ProbeActivities {
  shout(text: string): Promise<string>;
}

const { shout } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10s' });

/** Activity, timer, activity: enough to leave a recognisable history. */
export async function probeWorkflow(text: string): Promise<string> {
  const first = await shout(text);
  await sleep('1s');
  return `${first}/${await shout(text)}`;
}

/** Sleeps thirty days on a durable timer. */
export async function longSleeper(): Promise<number> {
  const before = Date.now();
  await sleep('30 days');
  return Date.now() - before;
}
