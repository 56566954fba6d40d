import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Allowed characters of an event id (idempotency key). */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
export const MAX_TYPE_LENGTH = 128;
/** Nesting depth of `data` accepted at most. */
export const MAX_DATA_DEPTH = 64;

/** Body of `POST /events/{userid}/downstream` and `POST /events/downstream` (SPEC section 4); documentation only, PostEventBodyPipe validates. */
export class PostEventBodyDto {
  @ApiPropertyOptional({
    description: 'Event type; defaults to `downstream`',
    example: 'todo.completed',
    minLength: 1,
    maxLength: MAX_TYPE_LENGTH,
  })
  type?: string;

  @ApiProperty({
    description: 'Any JSON value (present, possibly null); delivered as is',
    example: { todoid: 87 },
  })
  data!: unknown;

  @ApiPropertyOptional({
    description:
      'Idempotency key: a second POST with the same id for the same user is accepted and not delivered twice. Generated (UUID) when absent.',
    pattern: EVENT_ID_PATTERN.source,
    example: '5f0c5e7e-2a57-4c53-9d43-6f1e0f1d2c11',
  })
  id?: string;
}

export class UserEventAcceptedDto {
  @ApiProperty({ example: '5f0c5e7e-2a57-4c53-9d43-6f1e0f1d2c11' })
  id!: string;

  @ApiProperty({ example: 'test001' })
  userid!: string;

  @ApiProperty({
    description: 'Sockets of the user connected now (on every replica); each gets the event',
    example: 1,
  })
  delivered!: number;

  @ApiProperty({
    description: 'Always true: the event waits in the user inbox until acknowledged',
    example: true,
  })
  stored!: true;
}

export class BroadcastAcceptedDto {
  @ApiProperty({ example: '5f0c5e7e-2a57-4c53-9d43-6f1e0f1d2c11' })
  id!: string;

  @ApiProperty({
    description: 'Sockets connected now (on every replica); each gets the event once',
    example: 3,
  })
  delivered!: number;
}
