import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FieldProblemDto {
  @ApiProperty({ example: 'sub' })
  field!: string;

  @ApiProperty({ example: 'sub must be 1-128 characters of [A-Za-z0-9._@-]' })
  message!: string;
}

/** RFC 9457 problem details (`application/problem+json`), as every error of this service. */
export class ProblemDto {
  @ApiProperty({ example: 'https://downstream.dev/problems/unauthorized' })
  type!: string;

  @ApiProperty({ example: 'Unauthorized' })
  title!: string;

  @ApiProperty({ example: 401 })
  status!: number;

  @ApiProperty({ example: 'invalid token: expired' })
  detail!: string;

  @ApiPropertyOptional({ example: '/auth/verify' })
  instance?: string;

  @ApiPropertyOptional({ example: '5b0c8f8e-2a47-4b8e-9d43-0c3f1e0f5a11' })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldProblemDto] })
  errors?: FieldProblemDto[];
}

export const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } };
