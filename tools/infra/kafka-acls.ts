/**
 * Who may do what on Kafka: one SCRAM user per app, plus the operator's, each allowed exactly the
 * topics and consumer groups its process uses (least privilege). The launcher's SASL listener
 * enforces these rules (./kafka-sasl.ts creates the users, `ensureKafkaAcls` the rules) and
 * docker-compose.yml's kafka-init writes the same ones with kafka-acls.sh (test/deploy/compose.unit.test.ts
 * keeps the two in agreement). Anything not listed is refused: the broker runs StandardAuthorizer
 * with `allow.everyone.if.no.acl.found` left at false. docs/SECURITY.md shows the table.
 */
import {
  AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import { CONSUMER_GROUPS, TOPICS } from '../../common/names';
import { defaultLog, Log, sleep } from './proc';

/** The Kafka users: one per app process, and the operator's (topic creation, DLQ replay). */
export const KAFKA_ROLES = ['gateway', 'bridge', 'worker', 'history', 'admin'] as const;
export type KafkaRole = (typeof KAFKA_ROLES)[number];

/** Each role's user name, the same on the launcher's listener and in docker-compose.yml. */
export const KAFKA_USERS: Record<KafkaRole, string> = {
  gateway: 'orders-gateway',
  bridge: 'orders-bridge',
  worker: 'orders-worker',
  history: 'orders-history',
  admin: 'orders-admin',
};

/** Operations as kafka-acls.sh spells them. Write and Read imply Describe on the same resource. */
export type AclOperation = 'Read' | 'Write' | 'Create' | 'Describe' | 'Alter' | 'Delete';

/** One rule: operations allowed on one topic or group name (literal) or on every name starting with it (prefixed). */
export interface AclRule {
  resource: 'topic' | 'group';
  name: string;
  pattern: 'literal' | 'prefixed';
  operations: AclOperation[];
}

const topic = (name: string, ...operations: AclOperation[]): AclRule => ({
  resource: 'topic',
  name,
  pattern: 'literal',
  operations,
});
const groupsStartingWith = (prefix: string, ...operations: AclOperation[]): AclRule => ({
  resource: 'group',
  name: prefix,
  pattern: 'prefixed',
  operations,
});

/**
 * What each user may do. Consumer groups are prefixes: the gateway's status feed takes a fresh
 * group per process (`gateway-status-<uuid>`), and a bridge or DLQ replay may run under a group
 * named after the fixed one (BRIDGE_GROUP_ID=order-bridge-eu, the replay's dry-run groups).
 */
export const KAFKA_ACL_RULES: Record<KafkaRole, AclRule[]> = {
  // Produces ORDER_PLACED; follows the status events.
  gateway: [
    topic(TOPICS.orderPlacement, 'Write'),
    topic(TOPICS.orderStatus, 'Read'),
    groupsStartingWith(CONSUMER_GROUPS.gatewayStatusPrefix, 'Read'),
  ],
  // Consumes ORDER_PLACED in its group; parks what is not an order in the DLQ.
  bridge: [
    topic(TOPICS.orderPlacement, 'Read'),
    groupsStartingWith(CONSUMER_GROUPS.bridge, 'Read'),
    topic(TOPICS.orderPlacementDlq, 'Write'),
  ],
  // Publishes status events, reads nothing.
  worker: [topic(TOPICS.orderStatus, 'Write')],
  // The order history (history/): reads both topics in its groups (the live one and each rebuild's), writes nothing.
  history: [
    topic(TOPICS.orderPlacement, 'Read'),
    topic(TOPICS.orderStatus, 'Read'),
    groupsStartingWith(CONSUMER_GROUPS.history, 'Read'),
  ],
  // The operator: creates the app's topics and grows their partitions (the launcher against a
  // cluster it did not start); replays the DLQ (bridge/dlq-replay.ts: reads the DLQ in its group,
  // writes order-placement, deletes its dry-run groups).
  admin: [
    ...Object.values(TOPICS).map((name) => topic(name, 'Create', 'Describe', 'Alter')),
    topic(TOPICS.orderPlacementDlq, 'Read'),
    topic(TOPICS.orderPlacement, 'Write'),
    groupsStartingWith(CONSUMER_GROUPS.dlqReplay, 'Read', 'Delete'),
  ],
};

const OPERATION_CODES: Record<AclOperation, AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Describe: AclOperationTypes.DESCRIBE,
  Alter: AclOperationTypes.ALTER,
  Delete: AclOperationTypes.DELETE,
};

/** The rules as Kafka ACL bindings: allow, from any host, one per (user, resource, operation). */
export function aclEntries(rules: Record<KafkaRole, AclRule[]> = KAFKA_ACL_RULES): AclEntry[] {
  return KAFKA_ROLES.flatMap((role) =>
    rules[role].flatMap((rule) =>
      rule.operations.map((operation) => ({
        principal: `User:${KAFKA_USERS[role]}`,
        host: '*',
        resourceType: rule.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
        resourceName: rule.name,
        resourcePatternType: rule.pattern === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
        operation: OPERATION_CODES[operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    ),
  );
}

const keyOf = (e: AclEntry): string =>
  [e.principal, e.host, e.resourceType, e.resourceName, e.resourcePatternType, e.operation, e.permissionType].join('|');

/** Every ACL binding the broker holds for the given principals. */
export async function aclsOf(admin: Admin, principals: Set<string>): Promise<AclEntry[]> {
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  return described.resources.flatMap((r) =>
    r.acls
      .filter((acl) => principals.has(acl.principal))
      .map((acl) => ({
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        resourcePatternType: r.resourcePatternType,
      })),
  );
}

/**
 * Makes the app users' ACLs on the broker exactly the rules: binds what is missing, removes what
 * the rules no longer hold (a rule taken out of the table is taken off the broker too), then waits
 * until the broker's authorizer shows the result. Through a listener whose principal is a super
 * user (the launcher's plaintext one). Idempotent.
 */
export async function ensureKafkaAcls(
  brokers: string[],
  log: Log = defaultLog,
  rules: Record<KafkaRole, AclRule[]> = KAFKA_ACL_RULES,
): Promise<void> {
  const admin = new Kafka({ clientId: 'launcher-acls', brokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const principals = new Set(KAFKA_ROLES.map((role) => `User:${KAFKA_USERS[role]}`));
    const wanted = new Map(aclEntries(rules).map((e) => [keyOf(e), e]));
    const held = new Map((await aclsOf(admin, principals)).map((e) => [keyOf(e), e]));
    const stale = [...held].filter(([key]) => !wanted.has(key)).map(([, e]) => e);
    const missing = [...wanted].filter(([key]) => !held.has(key)).map(([, e]) => e);
    if (stale.length) await admin.deleteAcls({ filters: stale });
    if (missing.length) await admin.createAcls({ acl: missing });
    if (!stale.length && !missing.length) return;
    // The broker applies new bindings from the metadata log a moment later; wait, so a client
    // started right after this does not meet a refusal the rules do not intend.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = new Set((await aclsOf(admin, principals)).map(keyOf));
      if (now.size === wanted.size && [...wanted.keys()].every((key) => now.has(key))) break;
      if (Date.now() > deadline) throw new Error('the Kafka ACLs did not take effect within 30 s');
      await sleep(100);
    }
    log(`Kafka ACLs: ${missing.length} added, ${stale.length} removed (${wanted.size} for ${principals.size} users)`);
  } finally {
    await admin.disconnect();
  }
}
