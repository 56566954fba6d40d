import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_STATUSES, type DeliveryStatus } from '@app/contracts';
import { CONTENT_EXAMPLE } from './create-todo.dto';

export class DownstreamResponse {
  @ApiProperty({
    example: 'todo-87-3f2c9a4e-1b7d-5c2e-9f10-6a8b7c6d5e4f',
    description: 'The id of the todo.completed event: `todo-<todoid>-<UUID>`.',
  })
  eventId!: string;

  @ApiProperty({
    enum: DELIVERY_STATUSES,
    example: 'acked',
    description: 'Moves forward only: pending → stored | delivered → acked.',
  })
  status!: DeliveryStatus;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-11-26T10:00:02.000Z' })
  acknowledgedAt!: string | null;
}

/** The Todo JSON of SPEC section 3. */
export class TodoResponse {
  @ApiProperty({ example: 87 })
  todoid!: number;

  @ApiProperty({ example: 'test001' })
  userid!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: CONTENT_EXAMPLE })
  content!: Record<string, unknown>;

  @ApiProperty({ example: false })
  completed!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  completedAt!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00.000Z' })
  updatedAt!: string;

  @ApiPropertyOptional({
    type: DownstreamResponse,
    description: 'Present once the todo has been completed: its event and delivery receipt.',
  })
  downstream?: DownstreamResponse;
}

export class CompletionEventResponse {
  @ApiProperty({
    example: 'todo-87-3f2c9a4e-1b7d-5c2e-9f10-6a8b7c6d5e4f',
    description: 'Same id on every completion of the same todo: `todo-<todoid>-<UUID>`.',
  })
  id!: string;

  @ApiProperty({
    enum: ['delivered', 'stored', 'pending'],
    example: 'delivered',
    description:
      'delivered: emitted to a connected socket; stored: kept for the offline user; pending: the gateway was unreachable, retried in the background.',
  })
  status!: 'delivered' | 'stored' | 'pending';
}

export class CompleteTodoResponse {
  @ApiProperty({ type: TodoResponse })
  todo!: TodoResponse;

  @ApiProperty({ type: CompletionEventResponse })
  event!: CompletionEventResponse;
}
