import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { TodoJson } from '@app/contracts';
import { ProblemDto } from '@app/errors';
import { CreateTodoDto } from './dto/create-todo.dto';
import { ListTodosQuery } from './dto/list-todos.query';
import { CompleteTodoResponse, TodoResponse } from './dto/todo.response';
import { UpdateTodoDto } from './dto/update-todo.dto';
import { TodoBodyInterceptor } from './todo-body.interceptor';
import { type TodoId, TodoIdPipe } from './todo-id.pipe';
import { type CompletionResult, TodosService } from './todos.service';

const PROBLEM = { type: ProblemDto, description: '' };
const problem = (description: string): { type: typeof ProblemDto; description: string } => ({
  ...PROBLEM,
  description,
});
const TODOID_PARAM = {
  name: 'todoid',
  description: 'A positive integer.',
  example: 87,
  schema: { type: 'integer', minimum: 1 },
} as const;

@ApiTags('todos')
@ApiExtraModels(ProblemDto)
@ApiServiceUnavailableResponse(problem('MongoDB is unreachable; retry later (application/problem+json).'))
@Controller('todos')
export class TodosController {
  constructor(private readonly todos: TodosService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @UseInterceptors(TodoBodyInterceptor)
  @ApiOperation({
    summary: 'Create a todo',
    description: 'Allocates `todoid` unless the body has one. Answers with `Location: /todos/{todoid}`.',
  })
  @ApiConsumes('application/json')
  @ApiBody({ type: CreateTodoDto })
  @ApiCreatedResponse({
    type: TodoResponse,
    description: 'Created.',
    headers: {
      Location: { description: '/todos/{todoid}', schema: { type: 'string', example: '/todos/87' } },
    },
  })
  @ApiBadRequestResponse(
    problem(
      "Invalid body: unknown fields, wrong types, bad userid, content keys with '$' or '.', nesting deeper than 32, invalid JSON.",
    ),
  )
  @ApiConflictResponse(problem('The given todoid is taken.'))
  @ApiPayloadTooLargeResponse(problem('Body larger than 1 MiB.'))
  @ApiUnsupportedMediaTypeResponse(problem('Body not sent as application/json.'))
  async create(
    @Body() dto: CreateTodoDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TodoJson> {
    const todo = await this.todos.create(dto);
    void reply.header('Location', `/todos/${todo.todoid}`);
    return todo;
  }

  @Get()
  @ApiOperation({
    summary: 'List todos',
    description: 'Sorted by todoid. The total number of matches is in `X-Total-Count`.',
  })
  @ApiOkResponse({
    type: [TodoResponse],
    headers: {
      'X-Total-Count': {
        description: 'Todos matching the filters (ignoring limit/offset).',
        schema: { type: 'integer', example: 1 },
      },
    },
  })
  @ApiBadRequestResponse(
    problem(
      'Invalid query: bad userid, completed not true/false, limit outside 1..1000, negative offset, unknown parameter.',
    ),
  )
  async list(
    @Query() query: ListTodosQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TodoJson[]> {
    const { items, total } = await this.todos.list(query);
    void reply.header('X-Total-Count', String(total));
    return items;
  }

  @Get(':todoid')
  @ApiOperation({ summary: 'Get a todo' })
  @ApiParam(TODOID_PARAM)
  @ApiOkResponse({ type: TodoResponse })
  @ApiBadRequestResponse(problem('todoid is not a positive integer.'))
  @ApiNotFoundResponse(problem('No such todo.'))
  get(@Param('todoid', TodoIdPipe) todoid: TodoId): Promise<TodoJson> {
    return this.todos.get(todoid);
  }

  @Put(':todoid')
  @UseInterceptors(TodoBodyInterceptor)
  @ApiOperation({
    summary: 'Update a todo',
    description: 'Any of userid, content, completed; omitted fields keep their values; todoid cannot change.',
  })
  @ApiParam(TODOID_PARAM)
  @ApiConsumes('application/json')
  @ApiBody({ type: UpdateTodoDto })
  @ApiOkResponse({ type: TodoResponse, description: 'The updated todo.' })
  @ApiBadRequestResponse(problem('Invalid todoid or body (including a todoid in the body).'))
  @ApiNotFoundResponse(problem('No such todo.'))
  @ApiPayloadTooLargeResponse(problem('Body larger than 1 MiB.'))
  @ApiUnsupportedMediaTypeResponse(problem('Body not sent as application/json.'))
  update(@Param('todoid', TodoIdPipe) todoid: TodoId, @Body() dto: UpdateTodoDto): Promise<TodoJson> {
    return this.todos.update(todoid, dto);
  }

  @Delete(':todoid')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a todo' })
  @ApiParam(TODOID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiBadRequestResponse(problem('todoid is not a positive integer.'))
  @ApiNotFoundResponse(problem('No such todo.'))
  async delete(@Param('todoid', TodoIdPipe) todoid: TodoId): Promise<void> {
    await this.todos.delete(todoid);
  }

  @Post(':todoid/complete/downstream')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Complete a todo and send its todo.completed event to its user',
    description:
      'Marks the todo completed and hands one `todo.completed` event (data: the todo) for `todo.userid` to the Event API. ' +
      '`delivered`: emitted to a connected socket; `stored`: kept for the offline user; `pending`: the gateway was unreachable — ' +
      'the event is kept in MongoDB and retried with backoff until accepted. Completing again returns the same event id.',
  })
  @ApiParam(TODOID_PARAM)
  @ApiOkResponse({ type: CompleteTodoResponse })
  @ApiBadRequestResponse(problem('todoid is not a positive integer.'))
  @ApiNotFoundResponse(problem('No such todo.'))
  complete(@Param('todoid', TodoIdPipe) todoid: TodoId): Promise<CompletionResult> {
    return this.todos.complete(todoid);
  }
}
