/**
 * Where message ids come from: decimal Snowflake strings (`SnowflakeGenerator` satisfies it).
 * Ids grow with time, so ordering the outbox by id is ordering it by creation.
 */
export interface IdGenerator {
  nextId(): string;
}
