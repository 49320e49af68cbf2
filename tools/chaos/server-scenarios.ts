/**
 * The crash matrix's server strikes (see ./scenarios.ts): the Kafka broker or the Temporal server
 * SIGKILLed, kept down for an outage, restarted on its data.
 */
import { answers200, httpGet, sleep } from '../infra/proc';
import { committedOffsets, probeKafka, sample, waitFor } from './cluster-observations';
import { secs, type KafkaCtx, type ScenarioDef } from './scenario-kit';

export const SERVER_DEFS: Record<'kafka' | 'temporal', ScenarioDef> = {
  kafka: {
    bridges: 1,
    async strike(ctx) {
      const killedAt = Date.now();
      await ctx.stack.killServer('kafka');
      ctx.killedAt = Date.now();
      ctx.notes.push(`broker SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
      let restarting = false;
      const health = sample(
        () => httpGet(`http://127.0.0.1:${ctx.healthPortOf(ctx.gateway)}/healthz`, 4_000).then((r) => r?.status ?? 0),
        () => restarting,
        500,
        ctx.opts.outageMs + 5_000,
      );
      await sleep(ctx.opts.outageMs);
      restarting = true;
      const codes = await health;
      const restartAt = Date.now();
      await ctx.stack.restartServer('kafka');
      ctx.notes.push(`broker down ${secs(restartAt - killedAt)}, back after ${secs(Date.now() - killedAt)}`);
      ctx.notes.push(`gateway /healthz while down: ${[...new Set(codes)].join(',')}`);
      if (!codes.includes(503)) ctx.failures.push('gateway /healthz never reported degraded while Kafka was down');
      (ctx as KafkaCtx).outage = { killedAt, restartAt };
    },
  },

  temporal: {
    bridges: 1,
    async strike(ctx) {
      const kafka = probeKafka(ctx.stack.kafkaBrokers);
      const killedAt = Date.now();
      await ctx.stack.killServer('temporal');
      ctx.killedAt = Date.now();
      ctx.notes.push(`Temporal SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
      const bridgePort = ctx.healthPortOf(ctx.bridges[0]);
      let restarting = false;
      const outageMs = ctx.opts.temporalOutageMs;
      const health = sample(
        () => httpGet(`http://127.0.0.1:${bridgePort}/healthz`).then((r) => r?.status ?? 0),
        () => restarting,
        500,
        outageMs + 5_000,
      );
      // In-flight starts that succeeded just before the kill may still commit; after that, nothing may.
      await sleep(Math.min(3_000, outageMs / 2));
      const offsetsEarly = await committedOffsets(kafka);
      await sleep(Math.max(0, outageMs - (Date.now() - killedAt)));
      const offsetsLate = await committedOffsets(kafka);
      restarting = true;
      const codes = await health;
      await ctx.stack.restartServer('temporal');
      ctx.notes.push(`Temporal back after ${secs(Date.now() - killedAt)}`);
      ctx.notes.push(`bridge /healthz while down: ${[...new Set(codes)].join(',')}`);
      if (!codes.includes(503)) ctx.failures.push('bridge /healthz never reported degraded while Temporal was down');
      if (offsetsEarly !== offsetsLate)
        ctx.failures.push(`the bridge committed offsets while Temporal was down: ${offsetsEarly} -> ${offsetsLate}`);
      else ctx.notes.push('no commit while down');
      const ok = await waitFor(() => answers200(`http://127.0.0.1:${bridgePort}/healthz`), 500, 60_000);
      if (ok) ctx.notes.push(`bridge healthy again ${secs(Date.now() - killedAt)} after the kill`);
      else ctx.failures.push('bridge /healthz did not return to ok within 60 s of the restart');
    },
  },
};
