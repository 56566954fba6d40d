import { Controller, Get, Param } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { type ClientEntry, USER_ID_RULE } from '@app/contracts';
import { NotFoundError, PROBLEM_CONTENT, ProblemDto } from '@app/errors';
import { ClientRegistryService } from './client-registry.service';
import { ClientEntryDto } from './dto/client-entry.dto';
import { UserIdPipe } from './user-id.pipe';

const PROBLEM = { description: 'application/problem+json', content: PROBLEM_CONTENT };

@ApiExtraModels(ProblemDto)
@ApiTags('clients')
@Controller('clients')
export class ClientsController {
  constructor(private readonly registry: ClientRegistryService) {}

  @Get()
  @ApiOperation({ summary: 'Every connected socket, on every replica (the registry `client-list`)' })
  @ApiOkResponse({ type: ClientEntryDto, isArray: true })
  @ApiServiceUnavailableResponse({ ...PROBLEM, description: 'Redis is unavailable; retry later' })
  list(): Promise<ClientEntry[]> {
    return this.registry.all();
  }

  @Get(':userId')
  @ApiOperation({ summary: "One user's connected sockets, on every replica" })
  @ApiParam({ name: 'userId', description: USER_ID_RULE, example: 'test001' })
  @ApiOkResponse({ type: ClientEntryDto, isArray: true })
  @ApiBadRequestResponse({ ...PROBLEM, description: 'Invalid userId' })
  @ApiNotFoundResponse({ ...PROBLEM, description: 'The user has no connected socket' })
  @ApiServiceUnavailableResponse({ ...PROBLEM, description: 'Redis is unavailable; retry later' })
  async ofUser(@Param('userId', UserIdPipe) userId: string): Promise<ClientEntry[]> {
    const entries = await this.registry.ofUser(userId);
    if (entries.length === 0) {
      throw new NotFoundError(`user ${userId} has no connected socket`);
    }
    return entries;
  }
}
