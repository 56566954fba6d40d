import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OutboxModule } from '../outbox/outbox.module';
import { Counter, CounterSchema, Todo, TodoSchema } from './todo.schema';
import { TodosController } from './todos.controller';
import { TodosRepository } from './todos.repository';
import { TodosService } from './todos.service';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Todo.name, schema: TodoSchema },
      { name: Counter.name, schema: CounterSchema },
    ]),
    OutboxModule,
  ],
  controllers: [TodosController],
  providers: [TodosRepository, TodosService],
  exports: [TodosService],
})
export class TodosModule {}
