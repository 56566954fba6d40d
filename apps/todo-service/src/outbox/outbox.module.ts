import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { EventApiModule } from '../event-api/event-api.module';
import { Todo, TodoSchema } from '../todos/todo.schema';
import { OutboxLease, OutboxLeaseSchema } from './outbox-lease.schema';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OUTBOX_DELIVERIES_METRIC, OutboxService } from './outbox.service';
import { OutboxRepository } from './outbox.repository';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Todo.name, schema: TodoSchema },
      { name: OutboxLease.name, schema: OutboxLeaseSchema },
    ]),
    EventApiModule,
  ],
  providers: [
    OutboxRepository,
    OutboxService,
    OutboxDispatcher,
    makeCounterProvider({
      name: OUTBOX_DELIVERIES_METRIC,
      help: 'Delivery attempts of todo.completed events to the Event API, by result (delivered, stored, failed)',
      labelNames: ['result'],
    }),
  ],
  exports: [OutboxService],
})
export class OutboxModule {}
