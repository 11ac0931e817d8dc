import {
  BadRequestException,
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
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { SagaNotFoundError, SagaStateError, type SagaInstance } from '@app/dist-core/saga';
import { isSnowflakeId } from '@app/dist-core/snowflake';
import { OrderFlows } from '../flows/order-flows.js';
import { ErrorView } from '../api/dto/order.view.js';
import { OrderShards } from '../orders/order.store.js';

class ParkedSagaView {
  @ApiProperty({ example: '7399938409374388225', description: 'The order id' })
  id!: string;

  @ApiProperty({ example: 'RUNNING', description: 'PARKED, or where a retry sent it' })
  status!: string;

  @ApiProperty({ example: 'confirmStock' })
  currentStep!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'action confirmStock failed 10 times (last: TIMEOUT)',
  })
  parkedReason!: string | null;

  @ApiProperty({ example: '2026-11-27T14:05:51.020Z' })
  updatedAt!: string;
}

class ParkedSagaListView {
  @ApiProperty({ type: [ParkedSagaView] })
  items!: ParkedSagaView[];
}

const MAX_LISTED = 100;

function toView(saga: SagaInstance): ParkedSagaView {
  return {
    id: saga.id,
    status: saga.status,
    currentStep: saga.currentStep,
    parkedReason: saga.parkedReason,
    updatedAt: saga.updatedAt.toISOString(),
  };
}

/**
 * The operator's view of sagas the engine gave up on: a compensation or confirmStock that kept
 * failing parks its saga (the order stays PENDING); once the cause is fixed, retry resumes it.
 */
@ApiTags('admin')
@Controller('admin/sagas')
export class ParkedSagasController {
  constructor(
    private readonly shards: OrderShards,
    private readonly flows: OrderFlows,
  ) {}

  @Get('parked')
  @ApiOperation({ summary: 'Parked sagas on every shard, oldest first' })
  @ApiOkResponse({ type: ParkedSagaListView })
  async parked(): Promise<ParkedSagaListView> {
    const items = await this.shards.scatterGather(
      ({ dataSource }) => this.flows.saga.listParked(dataSource.manager, MAX_LISTED),
      { compare: (a, b) => a.updatedAt.getTime() - b.updatedAt.getTime(), limit: MAX_LISTED },
    );
    return { items: items.map(toView) };
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a parked saga with a fresh attempt budget' })
  @ApiParam({ name: 'id', description: 'The order id', example: '7399938409374388225' })
  @ApiOkResponse({ type: ParkedSagaView, description: 'The saga, resumed' })
  @ApiBadRequestResponse({ type: ErrorView, description: 'id is not a positive 64-bit decimal' })
  @ApiNotFoundResponse({ type: ErrorView, description: 'No saga for this order' })
  @ApiConflictResponse({ type: ErrorView, description: 'The saga is not parked' })
  async retry(@Param('id') id: string): Promise<ParkedSagaView> {
    if (!isSnowflakeId(id)) {
      throw new BadRequestException('id must be a positive 64-bit integer in decimal');
    }
    try {
      const { dataSource } = await this.shards.holdingOrder(id);
      return toView(await this.flows.saga.retryParked(dataSource, id));
    } catch (error) {
      if (error instanceof SagaNotFoundError) throw new NotFoundException(`No saga ${id}`);
      if (error instanceof SagaStateError) throw new ConflictException(error.message);
      throw error;
    }
  }
}
