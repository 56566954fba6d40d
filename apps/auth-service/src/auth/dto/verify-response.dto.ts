import { ApiProperty } from '@nestjs/swagger';

export class VerifyResponseDto {
  @ApiProperty({ example: 'test001' })
  sub!: string;

  @ApiProperty({ type: [String], example: ['editor'] })
  roles!: string[];

  @ApiProperty({ example: 'q3Yv4l1WcS2mB0Gm8Xr2xw' })
  jti!: string;

  @ApiProperty({ description: 'Expiry, seconds since the epoch.', example: 1795000000 })
  exp!: number;
}

export class JwksDto {
  @ApiProperty({
    description: 'Public signing keys (JWK, RFC 7517); empty for HS256, whose key is secret.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: '…', alg: 'ES256', use: 'sig' }],
  })
  keys!: Array<Record<string, unknown>>;
}
