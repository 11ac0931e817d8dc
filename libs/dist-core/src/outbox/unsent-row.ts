import type { TopicMessages } from 'kafkajs';

/** An outbox row on its way to Kafka, as the relay claims it or the enqueuer remembers it. */
export interface UnsentRow {
  id: string;
  topic: string;
  /** The Kafka key: the correlation (order) id. */
  key: string;
  /** The encoded envelope. */
  envelope: string;
  headers: Record<string, string>;
}

/** One produce request's messages, grouped by topic, in the rows' order. */
export function toTopicMessages(rows: UnsentRow[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const row of rows) {
    let entry = byTopic.get(row.topic);
    if (!entry) byTopic.set(row.topic, (entry = { topic: row.topic, messages: [] }));
    entry.messages.push({ key: row.key, value: row.envelope, headers: row.headers });
  }
  return [...byTopic.values()];
}

/** Marks published rows sent (a row another publisher marked first keeps its time). */
export const MARK_SENT_SQL =
  'UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[]) AND sent_at IS NULL';
