import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus, USER_ID_PATTERN, USER_ID_RULE } from '@app/contracts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Query of `GET /todos`. Every value is a validated primitive before it reaches a filter. */
export class ListTodosQuery {
  @ApiPropertyOptional({
    description: 'Only the todos of this user.',
    pattern: USER_ID_PATTERN.source,
    example: 'test001',
  })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `must be ${USER_ID_RULE}` })
  userid?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Only completed (`true`) or open (`false`) todos.',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: "must be 'true' or 'false'" })
  completed?: 'true' | 'false';

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;

  @ApiPropertyOptional({
    name: 'downstream.status',
    enum: DELIVERY_STATUSES,
    description: 'Only todos whose completion event has this delivery status.',
  })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `must be one of ${DELIVERY_STATUSES.join(', ')}` })
  'downstream.status'?: DeliveryStatus;
}
