import type { ServiceDefinition } from '@app/http';
import { AppModule } from './app.module';
import { loadTodoConfig, type TodoConfig } from './config/todo.config';

export const todoService: ServiceDefinition<TodoConfig> = {
  name: 'todo-service',
  title: 'Downstream todo-service',
  description: 'Todo documents on MongoDB; completing one pushes a `todo.completed` event to its user.',
  loadConfig: loadTodoConfig,
  module: (config) => AppModule.register(config),
};
