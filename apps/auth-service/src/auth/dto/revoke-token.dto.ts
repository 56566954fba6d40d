import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { JTI_PATTERN, MAX_TOKEN_LENGTH } from '@app/tokens';

export class RevokeTokenDto {
  @ApiPropertyOptional({ description: 'The JWT to revoke. Give `token` or `jti`.', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  @ValidateIf((body: RevokeTokenDto) => body.token !== undefined || body.jti === undefined)
  @IsString({ message: 'token or jti is required' })
  @MaxLength(MAX_TOKEN_LENGTH)
  token?: string;

  @ApiPropertyOptional({ description: 'The token id to revoke. Give `token` or `jti`.', example: 'q3Yv4l1WcS2mB0Gm8Xr2xw' })
  @IsOptional()
  @IsString()
  @Matches(JTI_PATTERN, { message: 'jti must be 1-128 characters of [A-Za-z0-9_-]' })
  jti?: string;
}

export class RevokeResponseDto {
  @ApiProperty({ description: 'The revoked token id.', example: 'q3Yv4l1WcS2mB0Gm8Xr2xw' })
  jti!: string;

  @ApiProperty({ description: 'False when the token had already expired or been revoked.', example: true })
  revoked!: boolean;
}
