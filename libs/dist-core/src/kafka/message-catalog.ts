/**
 * Message contracts: each message type declared once, with the topic it travels on and its
 * payload type, in a module both the producer and the consumer import. A renamed type or
 * topic then breaks the build instead of silently routing messages nowhere.
 *
 *   export const inventoryMessages = defineMessages({
 *     'inventory.reserve': message<ReserveStock>('inventory.commands'),
 *   });
 *   outbox.enqueue(manager, { ...inventoryMessages.route('inventory.reserve'), correlationId, payload });
 *   @EventPattern('inventory.reserve') reserve(@Payload() envelope: Envelope<ReserveStock>) { … }
 */
export interface MessageContract<P extends object = object> {
  readonly topic: string;
  /**
   * The participant a command goes to, or a reply comes from: the one principal allowed to read
   * (commands) or write (replies) the topic, so a consumer knows who sent what it took from it.
   */
  readonly participant?: string;
  /** Never set: carries the payload type for `PayloadOf`. */
  readonly payload?: P;
}

export type MessageContracts = Record<string, MessageContract>;

export type PayloadOf<M extends MessageContracts, T extends keyof M> =
  M[T] extends MessageContract<infer P> ? P : never;

/** Declares the topic a message type travels on; `P` is its payload type. */
export function message<P extends object>(topic: string, participant?: string): MessageContract<P> {
  return participant === undefined ? { topic } : { topic, participant };
}

/**
 * A participant of a coordinated flow and its topics: `<name>.commands`, which only it reads,
 * and `<name>.replies`, which only it writes. One reply topic per participant lets the broker's
 * write ACL prove who sent a reply; the coordinator then takes a reply only from the participant
 * it asked (`participantOf` on both types). `<name>.decisions`, which only it reads too, carries
 * two-phase commit's phase two apart from the commands: a prepare waiting for a row lock that an
 * earlier order's prepared transaction holds must not stand in front of the decision that
 * releases it.
 *
 *   const inventory = participant('inventory');
 *   defineMessages({ 'inventory.reserve': inventory.command<Reserve>(), 'inventory.reply': inventory.reply<Reply>() });
 */
export function participant<N extends string>(name: N) {
  const commands = `${name}.commands` as const;
  const replies = `${name}.replies` as const;
  const decisions = `${name}.decisions` as const;
  return {
    name,
    commands,
    replies,
    decisions,
    command: <P extends object>(): MessageContract<P> => message<P>(commands, name),
    reply: <P extends object>(): MessageContract<P> => message<P>(replies, name),
    decision: <P extends object>(): MessageContract<P> => message<P>(decisions, name),
  };
}

export interface MessageCatalog<M extends MessageContracts = MessageContracts> {
  readonly contracts: M;
  /** The topic `type` is declared on, or undefined for a type nobody declared. */
  topicOf(type: string): string | undefined;
  /** The participant `type` goes to or comes from, or undefined if it names none. */
  participantOf(type: string): string | undefined;
  /** Every declared topic, once each. */
  topics(): string[];
  /** `{ topic, type }` for `Outbox.enqueue`, so a send names only the type. */
  route<T extends keyof M & string>(type: T): { topic: string; type: T };
}

/** Kafka's legal topic names; `.dlq` is reserved for the dead-letter topics. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,240}$/;
export const DEAD_LETTER_SUFFIX = '.dlq';

export function defineMessages<const M extends MessageContracts>(contracts: M): MessageCatalog<M> {
  // A Map, not the object: a type named `constructor` must not find Object.prototype's.
  const topicByType = new Map<string, string>();
  const participantByType = new Map<string, string>();
  for (const [type, { topic, participant }] of Object.entries(contracts)) {
    if (type === '') throw new Error('A message type must be a non-empty string');
    if (!TOPIC_NAME.test(topic) || topic.endsWith(DEAD_LETTER_SUFFIX)) {
      throw new Error(`Message type ${type}: invalid topic name "${topic}"`);
    }
    topicByType.set(type, topic);
    if (participant !== undefined) participantByType.set(type, participant);
  }
  return {
    contracts,
    topicOf: (type) => topicByType.get(type),
    participantOf: (type) => participantByType.get(type),
    topics: () => [...new Set(topicByType.values())],
    route(type) {
      const topic = topicByType.get(type);
      if (topic === undefined) throw new Error(`Undeclared message type ${type}`);
      return { topic, type };
    },
  };
}

/**
 * The part of a catalog that travels on `topics`: one service's view of a catalog the services
 * share, so that it subscribes to and creates only the topics it uses. A participant's Kafka
 * principal may not even see another participant's topics.
 */
export function messagesOn(catalog: MessageCatalog, topics: readonly string[]): MessageCatalog {
  const contracts: MessageContracts = {};
  for (const [type, contract] of Object.entries(catalog.contracts)) {
    if (topics.includes(contract.topic)) contracts[type] = contract;
  }
  return defineMessages(contracts);
}
