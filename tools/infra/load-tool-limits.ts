import type { VariableName } from '../../common/env-variables';

/**
 * Gateway settings for the load tools (bench, crash matrix), whose many clients all come from
 * 127.0.0.1 and keep many orders in flight: per-address limits off, a large subscription cap.
 */
export const LOAD_TOOL_GATEWAY_LIMITS = {
  GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
  GATEWAY_HANDSHAKES_PER_SECOND_PER_IP: '0',
  GATEWAY_MAX_SUBSCRIPTIONS: '100000',
} as const satisfies Partial<Record<VariableName, string>>;
