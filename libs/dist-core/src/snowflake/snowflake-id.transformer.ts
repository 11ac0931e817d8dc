import type { ValueTransformer } from 'typeorm';
import { isSnowflakeId, type SnowflakeId } from './snowflake-id.js';
import { InvalidSnowflakeIdError } from './snowflake.errors.js';

/**
 * TypeORM transformer for Snowflake id columns (`type: 'bigint'`).
 *
 * Entities hold ids as decimal strings, not bigint, because that is what every neighbour speaks:
 * pg returns int8 as a string, JSON.stringify throws on BigInt (and Nest's Kafka serializer
 * JSON.stringifies), JSON.parse rounds numbers above 2^53, class-validator and route params are
 * strings, and string ids compare with ===. A bigint would need converting at each of those
 * edges; a string needs converting nowhere. Arithmetic on ids is never needed outside this folder.
 *
 * Writes (and find-operator values, which TypeORM passes through `to`) are validated so a
 * non-canonical id such as '007' never reaches SQL; bigint values are accepted and written as
 * their decimal string. Reads reject a JS number: it means someone registered a pg type parser
 * that turns int8 into a number, and the id has already lost precision.
 */
export const snowflakeIdTransformer: ValueTransformer = {
  to(value: SnowflakeId | bigint | null | undefined): SnowflakeId | null | undefined {
    if (value === null || value === undefined) return value;
    if (typeof value === 'bigint') value = value.toString();
    if (!isSnowflakeId(value)) throw new InvalidSnowflakeIdError(value);
    return value;
  },
  from(value: string | bigint | number | null): SnowflakeId | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'number') {
      throw new TypeError(
        `Snowflake id column read as a JS number (${value}): an int8 type parser is rounding ids above 2^53`,
      );
    }
    return typeof value === 'bigint' ? value.toString() : value;
  },
};
