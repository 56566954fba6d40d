import { Body, Controller, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiExtraModels,
  ApiBadRequestResponse,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import {
  type BroadcastAccepted,
  type PostEventBody,
  type UserEventAccepted,
  USER_ID_RULE,
} from '@app/contracts';
import { UserIdPipe } from '../registry/user-id.pipe';
import { BroadcastAcceptedDto, PostEventBodyDto, UserEventAcceptedDto } from './dto/post-event.dto';
import { EventsService } from './events.service';
import { JsonContentTypeGuard } from './json-content-type.guard';
import { PostEventBodyPipe } from './post-event-body.pipe';
import { PROBLEM_CONTENT, ProblemDto } from '@app/errors';

const PROBLEM = { description: 'application/problem+json', content: PROBLEM_CONTENT };

@ApiExtraModels(ProblemDto)
@ApiTags('events')
@Controller('events')
@UseGuards(JsonContentTypeGuard)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post(':userid/downstream')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Emit an event to every socket of one user (internal)',
    description:
      "Stores the event in the user's inbox (kept until a client of the user acknowledges it; retention EVENT_RETENTION_SECONDS, at most EVENT_INBOX_MAX per user) and emits it as `downstream` to the user's sockets on every replica. `id` is an idempotency key.",
  })
  @ApiParam({ name: 'userid', description: USER_ID_RULE, example: 'test001' })
  @ApiBody({ type: PostEventBodyDto })
  @ApiAcceptedResponse({
    type: UserEventAcceptedDto,
    description: 'Stored, and emitted to `delivered` sockets now',
  })
  @ApiBadRequestResponse({
    ...PROBLEM,
    description: 'Invalid userid or body (problem+json with the offending fields)',
  })
  @ApiPayloadTooLargeResponse(PROBLEM)
  @ApiUnsupportedMediaTypeResponse(PROBLEM)
  @ApiServiceUnavailableResponse({ ...PROBLEM, description: 'Redis is unavailable; retry later' })
  emitToUser(
    @Param('userid', UserIdPipe) userid: string,
    @Body(PostEventBodyPipe) body: PostEventBody,
  ): Promise<UserEventAccepted> {
    return this.events.emitToUser(userid, body);
  }

  @Post('downstream')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Broadcast an event to every connected client (internal)',
    description:
      'Emits `downstream` once to every socket connected to any replica now. Not stored: offline users never get it.',
  })
  @ApiBody({ type: PostEventBodyDto })
  @ApiAcceptedResponse({ type: BroadcastAcceptedDto })
  @ApiBadRequestResponse({ ...PROBLEM, description: 'Invalid body (problem+json with the offending fields)' })
  @ApiPayloadTooLargeResponse(PROBLEM)
  @ApiUnsupportedMediaTypeResponse(PROBLEM)
  @ApiServiceUnavailableResponse({ ...PROBLEM, description: 'Redis is unavailable; retry later' })
  broadcast(@Body(PostEventBodyPipe) body: PostEventBody): Promise<BroadcastAccepted> {
    return this.events.broadcast(body);
  }
}
