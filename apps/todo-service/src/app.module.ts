import { type DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MongooseHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/health';
import { CoreModule } from '@app/http';
import type { TodoConfig } from './config/todo.config';

@Module({})
export class AppModule {
  static register(config: TodoConfig): DynamicModule {
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
            serverSelectionTimeoutMS: 5_000,
            // Fail operations instead of queueing them while MongoDB is unreachable.
            bufferCommands: false,
            autoIndex: true,
          }),
        }),
      ],
    };
  }
}
