import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { MAX_ROLES, ROLE_PATTERN, USER_ID_PATTERN } from '@app/tokens';
import { USER_ID_RULE } from '@app/contracts';

export class IssueTokenDto {
  @ApiProperty({ description: 'The user the token is for (same character set as `userid`).', example: 'test001', pattern: USER_ID_PATTERN.source })
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `sub must be ${USER_ID_RULE}` })
  sub!: string;

  @ApiPropertyOptional({ description: `Up to ${MAX_ROLES} role names of [A-Za-z0-9._:@-].`, type: [String], example: ['editor'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ROLES)
  @IsString({ each: true })
  @Matches(ROLE_PATTERN, { each: true, message: 'each role must be 1-64 characters of [A-Za-z0-9._:@-]' })
  roles?: string[];

  @ApiPropertyOptional({
    description: 'Life of the token in seconds; default JWT_DEFAULT_EXPIRES_IN (3600), at most JWT_MAX_EXPIRES_IN (86400).',
    minimum: 1,
    example: 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  expires_in?: number;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'The signed JWT.', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires.', example: 3600 })
  expires_in!: number;

  @ApiProperty({ description: 'The token id (revoke it with POST /auth/revoke).', example: 'q3Yv4l1WcS2mB0Gm8Xr2xw' })
  jti!: string;
}
