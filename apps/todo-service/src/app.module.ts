import { type DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import mongoose from 'mongoose';
import { MongooseHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/health';
import { CoreModule } from '@app/http';
import type { TodoConfig } from './config/todo.config';
import { ReceiptsModule } from './receipts/receipts.module';
import { TodosModule } from './todos/todos.module';

@Module({})
export class AppModule {
  static register(config: TodoConfig): DynamicModule {
    // Mongoose captures and formats a stack trace on every query (to report "Query was already
    // executed" with the first caller): about 3% of the CPU of a GET /todos/{id}. We never run a
    // query twice, and errors keep their own stacks.
    mongoose.set('skipOriginalStackTraces', true);
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot({
          service: 'todo-service',
          config,
          readiness: {
            inject: [MongooseHealthIndicator, RedisHealthIndicator],
            readiness: (mongo: MongooseHealthIndicator, redis: RedisHealthIndicator) => [
              () => mongo.pingCheck('mongodb', { timeout: config.health.timeoutMs }),
              () => redis.check('redis', config.health.timeoutMs),
            ],
          },
        }),
        MongooseModule.forRootAsync({
          useFactory: () => ({
            uri: config.mongodb.uri,
            // Operations fail (503) within a bounded time while MongoDB is unreachable, instead of hanging.
            serverSelectionTimeoutMS: config.mongodb.timeoutMs,
            connectTimeoutMS: config.mongodb.timeoutMs,
            socketTimeoutMS: config.mongodb.timeoutMs * 6,
            // Fail operations instead of queueing them while MongoDB is unreachable.
            bufferCommands: false,
            autoIndex: true,
          }),
        }),
        TodosModule,
        ReceiptsModule,
      ],
    };
  }
}
