import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE, MAX_REQUEST_CENTS } from './account.js';

export class CreateAccountDto {
  @ApiProperty({
    example: 'customer-42',
    pattern: CUSTOMER_ID_PATTERN.source,
    description: CUSTOMER_ID_RULE,
  })
  @IsString()
  @Matches(CUSTOMER_ID_PATTERN, { message: `customerId must be ${CUSTOMER_ID_RULE}` })
  customerId: string;

  @ApiProperty({
    example: 100000,
    minimum: 0,
    maximum: MAX_REQUEST_CENTS,
    description: 'Opening balance in cents, all of it available',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_REQUEST_CENTS)
  balanceCents: number;
}

export class DepositDto {
  @ApiProperty({
    example: 2500,
    minimum: 1,
    maximum: MAX_REQUEST_CENTS,
    description: 'Cents to add',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_REQUEST_CENTS)
  amountCents: number;
}

export class CustomerIdParams {
  @ApiProperty({
    example: 'customer-42',
    pattern: CUSTOMER_ID_PATTERN.source,
    description: CUSTOMER_ID_RULE,
  })
  @IsString()
  @Matches(CUSTOMER_ID_PATTERN, { message: `customerId must be ${CUSTOMER_ID_RULE}` })
  customerId: string;
}

/** An account as every endpoint answers it. available + frozen + spent = created + deposits. */
export class AccountDto {
  @ApiProperty({ example: 'customer-42' })
  customerId: string;

  @ApiProperty({ example: 87500, description: 'Cents free to pay with' })
  availableCents: number;

  @ApiProperty({ example: 0, description: 'Cents held by TCC orders in progress' })
  frozenCents: number;

  @ApiProperty({ example: 15000, description: 'Cents paid for completed orders' })
  spentCents: number;
}
