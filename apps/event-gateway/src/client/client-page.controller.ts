import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

/** The browser test client (plain HTML/JS, no build step), copied to dist/ by the build. */
export const CLIENT_PAGE_PATH = join(__dirname, '..', 'public', 'client.html');

@ApiTags('client')
@Controller('client')
export class ClientPageController {
  private readonly html = readFileSync(CLIENT_PAGE_PATH, 'utf8');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({
    summary: 'Browser test client',
    description:
      'Connect with a token, see `downstream` events arrive, acknowledge them. Query: `token` (connects at once), `autoAck=1`.',
  })
  @ApiOkResponse({ description: 'text/html' })
  page(): string {
    return this.html;
  }
}
