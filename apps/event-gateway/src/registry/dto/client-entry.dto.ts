import { ApiProperty } from '@nestjs/swagger';
import type { ClientEntry } from '@app/contracts';

/** An entry of the registry `client-list` (SPEC section 4/5). */
export class ClientEntryDto implements ClientEntry {
  @ApiProperty({ example: 'test001' })
  userId!: string;

  @ApiProperty({ example: 'r3zmjlRAYTv98CxyAAAD' })
  socketId!: string;

  @ApiProperty({ description: 'When this socket connected (ISO-8601)', example: '2026-08-11T06:44:02.000Z' })
  lastConnectedTime!: string;
}
