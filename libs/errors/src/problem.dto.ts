import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FieldProblemDto {
  @ApiProperty({ example: 'content.filter.$where' })
  field!: string;

  @ApiProperty({ example: "keys must not start with '$'" })
  message!: string;
}

/** RFC 9457 problem details (`application/problem+json`): the OpenAPI schema of every error answer. */
export class ProblemDto {
  @ApiProperty({ example: 'https://downstream.dev/problems/validation' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: "content.filter.$where: keys must not start with '$'" })
  detail!: string;

  @ApiPropertyOptional({ example: '/todos' })
  instance?: string;

  @ApiPropertyOptional({ example: '5b0c8f8e-2a47-4b8e-9d43-0c3f1e0f5a11' })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldProblemDto], description: 'For validation errors: the offending fields.' })
  errors?: FieldProblemDto[];
}

/** `content` of an OpenAPI response whose body is a ProblemDto (register ProblemDto with @ApiExtraModels). */
export const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } };
