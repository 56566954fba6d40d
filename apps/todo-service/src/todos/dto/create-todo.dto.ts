import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsObject, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { USER_ID_PATTERN, USER_ID_RULE } from '@app/contracts';

export const CONTENT_EXAMPLE = {
  title: 'Purchase order 4711',
  fields: { qty: 3, 'bp-test': true, tags: ['a', null] },
};

/** Body of `POST /todos`. */
export class CreateTodoDto {
  @ApiPropertyOptional({
    description: 'Omit to let the server allocate one. A taken todoid → 409.',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    example: 87,
  })
  @ValidateIf((o: CreateTodoDto) => o.todoid !== undefined)
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'must be a safe integer' })
  todoid?: number;

  @ApiProperty({
    description: 'The owner: the external user who receives its events.',
    pattern: USER_ID_PATTERN.source,
    example: 'test001',
  })
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `must be ${USER_ID_RULE}` })
  userid!: string;

  @ApiProperty({
    description: "Any JSON object. Keys must not start with '$' or contain '.'; depth ≤ 32.",
    type: 'object',
    additionalProperties: true,
    example: CONTENT_EXAMPLE,
  })
  @IsObject({ message: 'must be a JSON object' })
  content!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Defaults to false.', example: false })
  @ValidateIf((o: CreateTodoDto) => o.completed !== undefined)
  @IsBoolean()
  completed?: boolean;
}
