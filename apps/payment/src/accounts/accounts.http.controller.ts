import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  AllowCustomers,
  CurrentPrincipal,
  requireActsFor,
  type Principal,
} from '@app/dist-core/auth';
import { MAX_ACCOUNT_TOTAL_CENTS, type Account } from './account.js';
import { AccountDto, CreateAccountDto, CustomerIdParams, DepositDto } from './account.dto.js';
import { AccountsLedger } from './accounts-ledger.js';

/** Operators open accounts and deposit; a customer's token may only read its own account. */
@ApiTags('accounts')
@ApiBadRequestResponse({ description: 'Invalid input; the message names the field' })
@Controller('accounts')
export class AccountsController {
  constructor(private readonly ledger: AccountsLedger) {}

  @Post()
  @ApiOperation({ summary: 'Open an account with an opening balance' })
  @ApiCreatedResponse({ type: AccountDto })
  @ApiConflictResponse({ description: 'The customer already has an account' })
  async create(@Body() body: CreateAccountDto): Promise<Account> {
    const account = await this.ledger.create(body.customerId, body.balanceCents);
    if (!account) throw new ConflictException(`Account ${body.customerId} already exists`);
    return account;
  }

  @Post(':customerId/deposits')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add money to the available balance' })
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse({ description: 'No such account' })
  @ApiConflictResponse({ description: 'The account total would exceed 2^53 - 1 cents' })
  async deposit(
    @Param() { customerId }: CustomerIdParams,
    @Body() body: DepositDto,
  ): Promise<Account> {
    const result = await this.ledger.deposit(customerId, body.amountCents);
    switch (result.status) {
      case 'deposited':
        return result.account;
      case 'unknown-customer':
        throw new NotFoundException(`Account ${customerId} not found`);
      case 'over-cap':
        throw new ConflictException(
          `amountCents would take account ${customerId} above ${MAX_ACCOUNT_TOTAL_CENTS} cents`,
        );
    }
  }

  @Get(':customerId')
  @AllowCustomers()
  @ApiOperation({ summary: 'An account: available, frozen and spent cents' })
  @ApiOkResponse({ type: AccountDto })
  @ApiForbiddenResponse({ description: "A customer's token, another customer's account" })
  @ApiNotFoundResponse({ description: 'No such account' })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param() { customerId }: CustomerIdParams,
  ): Promise<Account> {
    requireActsFor(caller, customerId);
    const account = await this.ledger.find(customerId);
    if (!account) throw new NotFoundException(`Account ${customerId} not found`);
    return account;
  }
}
