import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from './create-order.dto.js';

export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;

/** `?limit=`: how many orders a list returns (1-100, 20 by default). */
export class ListLimitQuery {
  @ApiPropertyOptional({
    type: 'integer',
    example: 20,
    minimum: 1,
    maximum: MAX_LIST_LIMIT,
    default: 20,
  })
  @IsOptional()
  // Query values are strings and the global pipe never coerces: only plain digits become a
  // number here, so "1e2", "20abc" or " 5" fail @IsInt rather than being guessed at.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(MAX_LIST_LIMIT)
  limit?: number;
}

export class ListOrdersQuery extends ListLimitQuery {
  @ApiProperty({ example: 'customer-42', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, { message: `$property ${NAME_RULE}` })
  customerId!: string;
}
