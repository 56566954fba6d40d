import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsString, Matches, ValidateIf } from 'class-validator';
import { USER_ID_PATTERN, USER_ID_RULE } from '@app/contracts';
import { CONTENT_EXAMPLE } from './create-todo.dto';

/** Body of `PUT /todos/{todoid}`: any of the fields; omitted fields keep their values; `todoid` cannot change. */
export class UpdateTodoDto {
  @ApiPropertyOptional({ pattern: USER_ID_PATTERN.source, example: 'test002' })
  @ValidateIf((o: UpdateTodoDto) => o.userid !== undefined)
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `must be ${USER_ID_RULE}` })
  userid?: string;

  @ApiPropertyOptional({
    description: "Replaces the whole content. Keys must not start with '$' or contain '.'; depth ≤ 32.",
    type: 'object',
    additionalProperties: true,
    example: CONTENT_EXAMPLE,
  })
  @ValidateIf((o: UpdateTodoDto) => o.content !== undefined)
  @IsObject({ message: 'must be a JSON object' })
  content?: Record<string, unknown>;

  @ApiPropertyOptional({ example: true })
  @ValidateIf((o: UpdateTodoDto) => o.completed !== undefined)
  @IsBoolean()
  completed?: boolean;
}
